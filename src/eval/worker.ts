// Runs an evaluation session in a worker thread with a large stack, so that deep (finite)
// recursion in Nix code does not overflow V8's default ~1 MB stack. The EvalIO is built inside
// the worker: by default a MemoryEvalIO, or by a module given as `io.module` that exports
// `createEvalIO(options): EvalIO` (how src/glue plugs in the store-backed one).
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { MemoryEvalIOOptions } from './io-memory.js';
import { createEvalIO } from './run.js';
import { type EvalRequest, runSession, type SessionOutput } from './session.js';

export interface EvalIOSpec {
  /** URL or path of a module exporting createEvalIO(options). */
  module?: string;
  options: MemoryEvalIOOptions & Record<string, unknown>;
}

type Msg =
  | { t: 'out'; d: string }
  | { t: 'err'; d: string }
  | { t: 'done'; code: number }
  | { t: 'crash'; d: string };

export const STACK_SIZE_MB = 256;

export function runInWorker(req: EvalRequest, io: EvalIOSpec, out: SessionOutput): Promise<number> {
  return new Promise((resolve, reject) => {
    const self = new URL(import.meta.url);
    // Running from TypeScript sources (tests under tsx): the worker registers tsx's loader first.
    const entry = self.pathname.endsWith('.ts')
      ? `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(self.href)}); })`
      : self;
    const w = new Worker(entry, {
      eval: typeof entry === 'string',
      workerData: { req, io },
      resourceLimits: { stackSizeMb: STACK_SIZE_MB },
    });
    let finished = false;
    w.on('message', (m: Msg) => {
      if (m.t === 'out') out.stdout(m.d);
      else if (m.t === 'err') out.stderr(m.d);
      else if (m.t === 'done') {
        finished = true;
        resolve(m.code);
      } else {
        finished = true;
        reject(new Error(m.d));
      }
    });
    w.on('error', (e) => {
      if (!finished) reject(e);
    });
    w.on('exit', (code) => {
      if (!finished) reject(new Error(`evaluation worker exited with code ${code}`));
    });
  });
}

async function workerMain(): Promise<void> {
  const { req, io } = workerData as { req: EvalRequest; io: EvalIOSpec };
  const port = parentPort!;
  const evalIO = await createEvalIO(io);
  const out: SessionOutput = {
    stdout: (d) => port.postMessage({ t: 'out', d } satisfies Msg),
    stderr: (d) => port.postMessage({ t: 'err', d } satisfies Msg),
  };
  try {
    let code = runSession(req, evalIO, out);
    try {
      await evalIO.finish?.();
    } catch (e) {
      // Adding what the evaluation made failed (a store error): reported as the CLI reports one.
      out.stderr(`error: ${(e as Error).message}\n`);
      code = 1;
    }
    port.postMessage({ t: 'done', code } satisfies Msg);
  } catch (e) {
    port.postMessage({
      t: 'crash',
      d: e instanceof Error ? (e.stack ?? e.message) : String(e),
    } satisfies Msg);
  }
}

if (!isMainThread && parentPort && (workerData as { req?: unknown } | null)?.req) {
  void workerMain();
}
