// Test helpers for the worker-protocol server: an unsigned input-addressed path with its NAR, a
// signing key, a daemon on a temporary socket with a chosen peer identity, raw socket sessions.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { have } from '../build/test-support.js';
import type { BasicDerivation } from '../formats/derivation.js';
import { instantiateDerivation } from '../formats/derivation-instantiate.js';
import { type Hash, hashBytes, parseHash, printHash } from '../formats/hash.js';
import { narFromBytesTree } from '../formats/nar.js';
import { fingerprint } from '../formats/narinfo.js';
import { toNix32 } from '../formats/nix32.js';
import { generateSecretKey, printPublicKey, signFingerprint, toPublicKey } from '../formats/signing.js';
import { WireWriter } from '../formats/wire.js';
import { DaemonStore } from '../store/daemon.js';
import { connectUnixSocket } from '../store/daemon-open.js';
import type { ValidPathInfo } from '../store/store.js';
import { contentAddressedInfo, textStorePath } from '../store/store-paths.js';
import { WORKER_MAGIC_1 } from '../store/worker-protocol.js';
import { type DaemonServer, type DaemonServerOptions, startDaemonServer } from './daemon-server.js';
import type { UserDb } from './trust.js';

function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'bin', 'tix'))) d = dirname(d);
  return d;
}
/** The checkout: tests run `bin/tix` from it. */
export const REPO_ROOT = repoRoot();

/**
 * Why a test that runs Nix 2.8 against `bin/tix` as root must skip (`needs` says what root is for),
 * or undefined when it can run.
 */
export function nixAsRootSkip(needs: string): string | undefined {
  if (!have('nix-store')) return 'Nix 2.8 is not installed';
  if (process.getuid?.() !== 0) return `needs root (${needs})`;
  if (!existsSync(join(REPO_ROOT, 'dist/src/cli/tix.js'))) return 'dist/ is not built';
  return undefined;
}

/** A real `tix daemon` (bin/tix) started for a test; its stderr keeps being collected. */
export interface SpawnedTixDaemon {
  proc: ChildProcess;
  /** Everything the daemon wrote to stderr so far. */
  log(): string;
}

/**
 * Starts `bin/tix daemon --store STORE --listen SOCKET` and resolves once it listens; rejects
 * (with its stderr) if it exits first or takes over 20 s. TIX_DEBUG_DAEMON echoes its stderr.
 */
export function spawnTixDaemon(
  store: string,
  socket: string,
  env: NodeJS.ProcessEnv,
): Promise<SpawnedTixDaemon> {
  rmSync(socket, { force: true });
  const proc = spawn(
    process.execPath,
    [join(REPO_ROOT, 'bin/tix'), 'daemon', '--store', store, '--listen', socket],
    {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tix daemon did not start: ${log}`)), 20_000);
    proc.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (process.env.TIX_DEBUG_DAEMON) process.stderr.write(d);
      if (log.includes('listening')) {
        clearTimeout(timer);
        resolve({ proc, log: () => log });
      }
    });
    proc.once('exit', (c) => {
      clearTimeout(timer);
      reject(new Error(`tix daemon exited with ${c}: ${log}`));
    });
  });
}

/** The environment of a Nix 2.8 client working under `dir` (its own conf, state, logs, HOME). */
export function nixClientEnv(dir: string, remote: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NIX_REMOTE: remote,
    NIX_CONF_DIR: join(dir, 'etc'),
    NIX_STATE_DIR: join(dir, 'nixstate'),
    NIX_LOG_DIR: join(dir, 'nixlog'),
    HOME: join(dir, 'home'),
  };
}

/** An input-addressed (not content-addressed) path holding `text`, unsigned, with its NAR. */
export async function unsignedPath(
  name: string,
  text: string,
): Promise<{ info: ValidPathInfo; nar: Uint8Array }> {
  const nar = await narFromBytesTree({ type: 'regular', contents: text });
  const hashPart = toNix32(hashBytes('sha256', `${name}:${text}`).digest.subarray(0, 20));
  const info: ValidPathInfo = {
    path: `/nix/store/${hashPart}-${name}`,
    narHash: printHash(hashBytes('sha256', nar), 'base16', { prefix: true }),
    narSize: nar.length,
    references: [],
    registrationTime: 1700000000,
    ultimate: true,
    sigs: [],
  };
  return { info, nar };
}

export function testKey(name = 'tix-test-1') {
  const sk = generateSecretKey(name);
  return { sk, publicKey: printPublicKey(toPublicKey(sk)) };
}

export function sign(info: ValidPathInfo, sk: ReturnType<typeof generateSecretKey>): ValidPathInfo {
  const fp = fingerprint(info.path, parseHash(info.narHash), info.narSize, info.references);
  return { ...info, sigs: [signFingerprint(sk, fp)] };
}

export async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

/** A user database with root (trusted by default) and an ordinary user 'alice' (uid 1000). */
export const fakeUsers: UserDb = {
  userName: (uid) => ({ 0: 'root', 1000: 'alice', 1001: 'bob' })[uid],
  groupName: (gid) => ({ 0: 'root', 100: 'users', 30000: 'nixbld' })[gid],
  groupMembers: (g) => ({ users: ['alice', 'bob'], nixbld: [] as string[] })[g],
};

export interface TestDaemon {
  server: DaemonServer;
  socket: string;
  /** A client store identified to the daemon as `uid`. */
  client(uid?: number): Promise<DaemonStore>;
  close(): Promise<void>;
}

/**
 * A daemon on a temporary socket. The peer identity of each connection is taken from `nextUid`
 * (set before connecting; default 0 = root), so trust rules can be tested without real users.
 */
export async function startTestDaemon(
  opts: Omit<DaemonServerOptions, 'trust'> & { trust?: DaemonServerOptions['trust'] },
): Promise<TestDaemon & { nextUid: { uid: number; gid: number } }> {
  const dir = mkdtempSync(join(tmpdir(), 'tix-worker-'));
  const socket = join(dir, 'socket');
  const nextUid = { uid: 0, gid: 0 };
  const server = await startDaemonServer(socket, {
    peerCred: () => ({ pid: 1, uid: nextUid.uid, gid: nextUid.gid }),
    userDb: fakeUsers,
    trust: opts.trust ?? { trustedUsers: ['root'], allowedUsers: ['*'], buildUsersGroup: 'nixbld' },
    ...opts,
  });
  const clients: DaemonStore[] = [];
  return {
    server,
    socket,
    nextUid,
    async client(uid = 0) {
      nextUid.uid = uid;
      nextUid.gid = uid === 0 ? 0 : 100;
      const s = new DaemonStore({
        uri: `unix://${socket}`,
        connect: () => connectUnixSocket(socket),
        setOptions: true,
        log: () => {},
        maxConnections: 1,
      });
      await s.isValidPath('/nix/store/00000000000000000000000000000000-x');
      clients.push(s);
      return s;
    },
    async close() {
      for (const c of clients) await c.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Connects, does the 1.34 client handshake, and returns the socket with everything it received. */
export async function rawSession(
  socketPath: string,
  payload: Uint8Array[],
  opts: { timeoutMs?: number } = {},
): Promise<{ received: Buffer; closedByServer: boolean }> {
  const sock: Socket = createConnection({ path: socketPath, allowHalfOpen: true });
  const got: Buffer[] = [];
  let closedByServer = false;
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', () => resolve());
    sock.once('error', reject);
  });
  sock.on('data', (d: Buffer) => got.push(d));
  const done = new Promise<void>((resolve) => {
    sock.once('end', () => {
      closedByServer = true;
      resolve();
    });
    sock.once('close', () => resolve());
    sock.on('error', () => resolve());
  });
  const hello = new WireWriter().u64(WORKER_MAGIC_1).u64(0x122).u64(0).u64(0).toBytes();
  sock.write(hello);
  for (const p of payload) sock.write(p);
  sock.end();
  const timer = setTimeout(() => sock.destroy(), opts.timeoutMs ?? 5000);
  await done;
  clearTimeout(timer);
  sock.destroy();
  return { received: Buffer.concat(got), closedByServer };
}

/**
 * A server directory for the oracle tests (Nix 2.8 and tix answering the same requests): a chroot
 * store below `dir`, and one configuration for both in `dir/etc` (no sandbox unless asked, builds as the
 * caller, /bin/sh from busybox as a chroot store's builds need it, no substituters). The
 * environment names the store and the configuration for either.
 */
export function oracleServerDir(
  dir: string,
  sandbox = false,
  extra = '',
): { store: string; env: NodeJS.ProcessEnv } {
  mkdirSync(join(dir, 'etc'), { recursive: true });
  const conf = `build-users-group =\nsubstituters =\nsandbox = ${sandbox}\nsandbox-paths = /bin/sh=/bin/busybox\n${extra}`;
  writeFileSync(join(dir, 'etc', 'nix.conf'), conf);
  writeFileSync(join(dir, 'etc', 'tix.conf'), conf);
  const store = `local?root=${join(dir, 'root')}`;
  return { store, env: { ...nixClientEnv(dir, store), TIX_STORE: store, TIX_CONF_DIR: join(dir, 'etc') } };
}

/**
 * A derivation whose builder is /bin/sh running `script` (x86_64-linux, one output, fixed or not): its ATerm,
 * its .drv as a text path (path, info, NAR), the BasicDerivation, and its output path.
 */
export async function shDerivation(
  name: string,
  script: string,
  inputSrcs: string[] = [],
  fixed?: { method: 'flat' | 'recursive'; hash: Hash },
  outputs: string[] = ['out'],
) {
  const env = new Map<string, string>([
    ['builder', '/bin/sh'],
    ['name', name],
    ['system', 'x86_64-linux'],
  ]);
  for (const o of outputs) env.set(o, '');
  if (outputs.length > 1) env.set('outputs', outputs.join(' '));
  const envKeys = [...env.keys()].sort();
  const made = instantiateDerivation(
    {
      name,
      outputs: [...outputs].sort(),
      ...(fixed ? { fixed } : {}),
      inputDrvs: [],
      inputDrvOutputs: [],
      inputSrcs,
      system: 'x86_64-linux',
      builder: '/bin/sh',
      args: ['-c', script],
      envKeys,
      envVals: envKeys.map((k) => env.get(k)!),
    },
    { storeDir: '/nix/store', inputHashBase16: () => '' },
  );
  const outPaths = new Map([...outputs].sort().map((o, i) => [o, made.outputPaths[i]!]));
  const out = outPaths.get('out') ?? made.outputPaths[0]!;
  const { path, hash } = textStorePath(`${name}.drv`, made.text, inputSrcs, '/nix/store');
  const nar = await narFromBytesTree({ type: 'regular', contents: made.text });
  const info = contentAddressedInfo(path, { hash: hashBytes('sha256', nar), size: nar.length }, inputSrcs, {
    method: 'text',
    hash,
  });
  for (const [o, p] of outPaths) env.set(o, p);
  const basic: BasicDerivation = {
    name,
    outputs: new Map(
      [...outPaths].map(([o, p]) => [
        o,
        fixed
          ? {
              path: p,
              hashAlgo: `${fixed.method === 'recursive' ? 'r:' : ''}${fixed.hash.algo}`,
              hash: printHash(fixed.hash, 'base16'),
            }
          : { path: p, hashAlgo: '', hash: '' },
      ]),
    ),
    inputSrcs,
    system: 'x86_64-linux',
    builder: '/bin/sh',
    args: ['-c', script],
    env,
  };
  return { text: made.text, drvPath: path, info, nar, basic, out, outPaths };
}
