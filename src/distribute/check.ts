// `tix builders check`: one round trip to a builder, like `guix offload test` — connect, host key,
// authentication, remote program and protocol version, upload a fresh input, build a tiny
// derivation for the machine's first system there, copy its output back and compare. Each step
// reports pass or fail with the reason; steps after a failure are skipped.
import { randomBytes } from 'node:crypto';
import { type Derivation, printDerivation } from '../formats/derivation.js';
import { fillOutputPaths } from '../formats/derivation-hash.js';
import type { Machine } from '../formats/machines.js';
import { narTreeSink, parseNar } from '../formats/nar.js';
import { ServeStore } from '../store/serve.js';
import type { BuildingStore, Store } from '../store/store.js';
import { type ConnectOptions, connectMachine } from './connect.js';
import { copyPaths } from './copy.js';
import { isSuccess } from './remote-machine.js';

export type StepName = 'connect' | 'host key' | 'auth' | 'remote program' | 'upload' | 'build' | 'download';
export const STEPS: StepName[] = [
  'connect',
  'host key',
  'auth',
  'remote program',
  'upload',
  'build',
  'download',
];

export interface CheckStep {
  step: StepName;
  /** null: skipped after an earlier failure. */
  ok: boolean | null;
  detail: string;
}

/** Which step a failure to open the session belongs to, from the error's code and ssh's words. */
export function connectFailureStep(e: unknown): StepName {
  const code = (e as { code?: unknown }).code;
  const msg = e instanceof Error ? e.message : String(e);
  if (code === 'HOST_KEY' || /Host key verification failed/.test(msg)) return 'host key';
  if (/Permission denied|Too many authentication failures/.test(msg)) return 'auth';
  if (code === 'REMOTE_PROTOCOL' || /command not found|No such file or directory|not found/.test(msg))
    return 'remote program';
  return 'connect';
}

function isSsh(uri: string): boolean {
  return /^ssh(-ng)?:\/\//.test(uri);
}

async function readRegularFile(store: Store, path: string): Promise<string> {
  const sink = narTreeSink();
  await parseNar(store.narFromPath(path), sink);
  const tree = sink.root();
  if (tree.type !== 'regular') throw new Error(`'${path}' is not a regular file`);
  const c = tree.contents;
  return typeof c === 'string' ? c : new TextDecoder().decode(c);
}

export async function checkMachine(
  local: Store,
  machine: Machine,
  opts: ConnectOptions = {},
): Promise<CheckStep[]> {
  const steps: CheckStep[] = [];
  const pass = (step: StepName, detail: string) => steps.push({ step, ok: true, detail });
  const finish = (failed: StepName, detail: string): CheckStep[] => {
    for (const s of STEPS.slice(steps.length)) {
      if (s === failed) steps.push({ step: s, ok: false, detail });
      else if (steps.some((x) => x.ok === false)) steps.push({ step: s, ok: null, detail: 'skipped' });
      else steps.push({ step: s, ok: true, detail: 'ok' });
    }
    return steps;
  };
  const ssh = isSsh(machine.storeUri);
  const t0 = Date.now();
  let conn: BuildingStore;
  try {
    conn = await connectMachine(machine, opts);
  } catch (e) {
    return finish(connectFailureStep(e), e instanceof Error ? e.message : String(e));
  }
  try {
    pass('connect', `session opened in ${Date.now() - t0} ms`);
    pass(
      'host key',
      !ssh
        ? 'not applicable (no ssh)'
        : machine.sshPublicHostKey
          ? 'matches the pinned key'
          : "not pinned; accepted by ssh's known_hosts",
    );
    pass(
      'auth',
      ssh ? `accepted${machine.sshKey ? ` with '${machine.sshKey}'` : ''}` : 'not applicable (no ssh)',
    );
    const version = conn instanceof ServeStore ? conn.remoteVersion : undefined;
    pass(
      'remote program',
      version === undefined
        ? `store '${conn.uri}' is ready`
        : `speaks serve protocol ${version >> 8}.${version & 0xff}`,
    );

    const nonce = randomBytes(12).toString('hex');
    const input = await local.addTextToStore(`tix-check-${nonce}`, `${nonce}\n`, []);
    try {
      const sent = await copyPaths(local, conn, [input]);
      if (!(await conn.isValidPath(input)))
        return finish('upload', `'${input}' is not valid there after the copy`);
      pass('upload', `sent ${sent.length} path`);
    } catch (e) {
      return finish('upload', (e as Error).message);
    }

    const system = machine.systems[0] ?? 'x86_64-linux';
    const script = 'read x < "$in"; echo "$x" > "$out"';
    const drv0: Derivation = {
      name: `tix-check-${nonce}`,
      outputs: new Map([['out', { path: '', hashAlgo: '', hash: '' }]]),
      inputSrcs: [input],
      inputDrvs: new Map(),
      system,
      builder: '/bin/sh',
      args: ['-c', script],
      env: new Map([
        ['builder', '/bin/sh'],
        ['in', input],
        ['name', `tix-check-${nonce}`],
        ['out', ''],
        ['system', system],
      ]),
    };
    const drv = fillOutputPaths(drv0, {
      storeDir: local.storeDir,
      inputHash: () => {
        throw new Error('the check derivation has no input derivations');
      },
    });
    const drvPath = await local.addTextToStore(`${drv.name}.drv`, printDerivation(drv), [input]);
    const out = drv.outputs.get('out')!.path;
    const tb = Date.now();
    try {
      const r = await conn.buildDerivation(drvPath, drv, {
        maxSilentTime: 60,
        buildTimeout: 120,
        maxLogSize: 0,
        keepFailed: false,
      });
      if (!isSuccess(r.status)) return finish('build', r.errorMsg || `build status ${r.status}`);
      pass('build', `built a '${system}' derivation in ${Date.now() - tb} ms`);
    } catch (e) {
      return finish('build', (e as Error).message);
    }
    try {
      await copyPaths(conn, local, [out]);
      const got = await readRegularFile(local, out);
      if (got !== `${nonce}\n`)
        return finish('download', `output '${out}' holds '${got.trim()}', not '${nonce}'`);
      pass('download', `'${out}' came back intact`);
    } catch (e) {
      return finish('download', (e as Error).message);
    }
    return steps;
  } finally {
    await conn.close();
  }
}
