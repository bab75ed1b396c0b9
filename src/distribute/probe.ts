// A quick look at a builder for `tix builders list`: can a session be opened (and how long does it
// take), and the builder's 1-minute load average (ssh builders only, read with a separate `ssh host
// cat /proc/loadavg`, bounded by a timeout).
import type { Machine } from '../formats/machines.js';
import { type ConnectOptions, connectMachine, machineStoreUri, sshOptions } from './connect.js';
import { openSshTransport } from './ssh.js';

export interface ProbeResult {
  up: boolean;
  /** "up (handshake 85 ms)" or the reason it is down. */
  state: string;
  /** 1-minute load average, when it could be read. */
  loadAverage?: number;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

async function loadAverage(m: Machine, opts: ConnectOptions): Promise<number | undefined> {
  const uri = machineStoreUri(m);
  if (!uri.startsWith('ssh://') && !uri.startsWith('ssh-ng://')) return undefined;
  const rest = uri.slice(uri.indexOf('://') + 3);
  const q = rest.indexOf('?');
  const params = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1));
  const t = openSshTransport(
    {
      authority: decodeURIComponent(q < 0 ? rest : rest.slice(0, q)),
      sshKey: params.get('ssh-key') || undefined,
      sshPublicHostKey: params.get('base64-ssh-public-host-key') || undefined,
    },
    'cat /proc/loadavg',
    { env: opts.env, sshOpts: sshOptions(opts) },
  );
  let text = '';
  for (let c = await t.input.pull(); c; c = await t.input.pull()) text += Buffer.from(c).toString();
  await t.close();
  const n = Number(text.split(' ')[0]);
  return Number.isFinite(n) && text !== '' ? n : undefined;
}

export async function probeMachine(
  m: Machine,
  opts: ConnectOptions & { timeoutMs?: number } = {},
): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? 15000;
  const t0 = Date.now();
  try {
    const store = await withTimeout(connectMachine(m, opts), timeoutMs, 'connecting');
    const ms = Date.now() - t0;
    await store.close();
    const load = await withTimeout(loadAverage(m, opts), timeoutMs, 'reading the load').catch(
      () => undefined,
    );
    return {
      up: true,
      state: `up (handshake ${ms} ms)`,
      ...(load !== undefined ? { loadAverage: load } : {}),
    };
  } catch (e) {
    return { up: false, state: `down: ${e instanceof Error ? e.message : String(e)}` };
  }
}
