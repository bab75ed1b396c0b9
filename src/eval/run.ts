// Runs an evaluation request: first on the calling thread with its output held back; if the
// JavaScript stack overflows (deep but finite recursion), the held output is dropped and the
// request runs again in a worker thread with a large stack. Held trace output is released once
// the first attempt has run for a while, so long evaluations still show traces as they happen.
import { setFlagsFromString } from 'node:v8';
import { importModule } from './import-module.js';
import type { EvalIO } from './io.js';
import { MemoryEvalIO } from './io-memory.js';
import { type EvalRequest, isStackOverflow, runSession, type SessionOutput } from './session.js';
import type { EvalIOSpec } from './worker.js';

const HOLD_MS = 1000;

/**
 * V8 tuning for evaluation, set when this module loads (it is only loaded to evaluate). Without
 * allocation-site pretenuring, sets and lists built in a loop (a fold over `//`) are not moved to
 * the old generation early, where, once dead, they kept young thunks alive until a full GC: that
 * made such evaluations 2-3x slower in about half of the runs.
 */
setFlagsFromString('--no-allocation-site-pretenuring');

export async function createEvalIO(spec: EvalIOSpec): Promise<EvalIO> {
  if (!spec.module) return new MemoryEvalIO(spec.options);
  const mod = (await importModule(spec.module)) as { createEvalIO(o: unknown): EvalIO | Promise<EvalIO> };
  return mod.createEvalIO(spec.options);
}

export async function runEvaluation(req: EvalRequest, spec: EvalIOSpec, out: SessionOutput): Promise<number> {
  const io = await createEvalIO(spec);
  const held: [keyof SessionOutput, string][] = [];
  const start = Date.now();
  let streaming = false;
  const release = () => {
    for (const [k, d] of held) out[k](d);
    held.length = 0;
    streaming = true;
  };
  const emit = (k: keyof SessionOutput) => (d: string) => {
    if (streaming) return out[k](d);
    held.push([k, d]);
    if (Date.now() - start > HOLD_MS) release();
  };
  let code: number;
  try {
    code = runSession(
      req,
      io,
      { stdout: emit('stdout'), stderr: emit('stderr') },
      { rethrowStackOverflow: true },
    );
  } catch (e) {
    if (!isStackOverflow(e)) {
      await io.finish?.();
      throw e;
    }
    held.length = 0;
    // The worker evaluates again with an EvalIO of its own; this one's writes are dropped.
    const { runInWorker } = await import('./worker.js');
    return runInWorker(req, spec, out);
  }
  release();
  await io.finish?.();
  return code;
}
