// openStore for worker-protocol stores: `daemon` (the default store's daemon socket, or
// `?socket=`), `unix:///path/to/socket`, and `ssh-ng://[user@]host[:port]` running
// `<remote-program> --stdio` (default `nix-daemon`; `?remote-store=` adds `--store`) over ssh with
// the words of $NIX_SSHOPTS of the given environment, at most `?max-connections=` (default 1, as
// Nix's) sessions at once.
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { openSshTransport, splitWords, sshTargetOf } from '../distribute/ssh.js';
import { StreamInput } from '../distribute/stream-input.js';
import { StreamOutput } from '../distribute/stream-output.js';
import { type DaemonClientOptions, DaemonStore } from './daemon.js';
import type { DaemonTransport } from './daemon-connection.js';
import { StoreError } from './errors.js';
import {
  DAEMON_SOCKET_IN_ROOT,
  defaultDaemonSocket,
  getSetting,
  type OpenStoreOptions,
  type ParsedStoreUri,
} from './open.js';

/** A connection to a daemon's Unix socket. */
export function connectUnixSocket(path: string): Promise<DaemonTransport> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path, allowHalfOpen: true });
    socket.once('error', (e) =>
      reject(
        new StoreError(
          'CONNECTION',
          `cannot connect to daemon at '${path}': ${(e as NodeJS.ErrnoException).code ?? e.message}`,
        ),
      ),
    );
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      socket.on('error', () => {});
      const input = new StreamInput(socket);
      const output = new StreamOutput(socket);
      resolve({
        name: path,
        pull: input.pull,
        write: (chunks, onWritten) => output.write(chunks, onWritten),
        async close() {
          await output.end();
          socket.destroy();
        },
      });
    });
  });
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function defaultSocket(env: NodeJS.ProcessEnv): string {
  return env.TIX_DAEMON_SOCKET_PATH || defaultDaemonSocket(env);
}

/** Settings SetOptions has fields for; the other overrides go as `name = value` (2.8's list). */
const OWN_FIELDS = new Set([
  'keep-failed',
  'keep-going',
  'fallback',
  'max-jobs',
  'max-silent-time',
  'cores',
  'substitute',
  'show-trace',
  'experimental-features',
  'plugin-files',
]);

/** SetOptions of a client with these settings, as Nix 2.8's RemoteStore::setOptions sends them. */
function clientSettings(opts: OpenStoreOptions): {
  client: DaemonClientOptions;
  overrides: Map<string, string>;
} {
  const text = (name: string) => getSetting(opts.settings, name);
  const bool = (name: string, def: boolean) => {
    const v = text(name);
    return v === undefined ? def : v === 'true';
  };
  const int = (name: string, def: number) => {
    const v = Number(text(name));
    return Number.isInteger(v) && v >= 0 ? v : def;
  };
  return {
    client: {
      keepFailed: bool('keep-failed', false),
      keepGoing: bool('keep-going', false),
      tryFallback: bool('fallback', false),
      maxBuildJobs: int('max-jobs', 1),
      maxSilentTime: int('max-silent-time', 0),
      buildCores: int('cores', 0),
      useSubstitutes: bool('substitute', true),
    },
    overrides: new Map([...(opts.overrides ?? [])].filter(([name]) => !OWN_FIELDS.has(name))),
  };
}

/** The store root of a tix daemon's socket at its usual place (`<root>/nix/var/tix/daemon-socket/socket`). */
function rootOfSocket(socket: string): string | undefined {
  const tail = `/${DAEMON_SOCKET_IN_ROOT}`;
  return socket.endsWith(tail) ? socket.slice(0, -tail.length) || '/' : undefined;
}

export async function openDaemonStore(
  uri: ParsedStoreUri,
  opts: OpenStoreOptions = {},
): Promise<DaemonStore> {
  const env = opts.env ?? process.env;
  const p = uri.params;
  const storeDir = p.get('store') ?? '/nix/store';
  if (uri.scheme === 'daemon' || uri.scheme === 'auto' || uri.scheme === 'unix') {
    const socket = uri.scheme === 'unix' ? uri.rest : (p.get('socket') ?? defaultSocket(env));
    if (!socket.startsWith('/'))
      throw new StoreError(
        'BAD_URI',
        `cannot open store 'unix://${uri.rest}': the socket path must be absolute`,
      );
    const root = p.get('root') ?? rootOfSocket(socket);
    const store = new DaemonStore({
      uri: uri.scheme === 'unix' ? `unix://${socket}` : 'daemon',
      storeDir,
      connect: () => connectUnixSocket(socket),
      setOptions: true,
      socket,
      logDir: join(root ?? '/', 'nix/var/log/nix'),
      localRoot: root !== undefined && root !== '/' ? root : undefined,
      connectTimeout: opts.connectTimeout,
      verbosity: opts.verbosity,
      ...clientSettings(opts),
    });
    await store.isValidPath(`${storeDir}/00000000000000000000000000000000-probe`).catch((e) => {
      void store.close();
      throw e;
    });
    return store;
  }
  if (uri.scheme === 'ssh-ng') {
    if (uri.rest === '') throw new StoreError('BAD_URI', "cannot open store 'ssh-ng://': no host given");
    let command = `${p.get('remote-program') ?? 'nix-daemon'} --stdio`;
    if (p.get('remote-store')) command += ` --store ${shellQuote(p.get('remote-store')!)}`;
    const maxConnections = Number(p.get('max-connections') ?? 1);
    return new DaemonStore({
      uri: `ssh-ng://${uri.rest}`,
      storeDir,
      setOptions: false,
      maxConnections: Number.isInteger(maxConnections) && maxConnections > 0 ? maxConnections : 1,
      connectTimeout: opts.connectTimeout,
      connect: async () => {
        const t = openSshTransport(sshTargetOf(uri.rest, p), command, {
          env,
          sshOpts: splitWords(env.NIX_SSHOPTS ?? ''),
        });
        return {
          name: uri.rest,
          pull: t.input.pull,
          write: (chunks, onWritten) => t.output.write(chunks, onWritten),
          close: () => t.close(),
          explainFailure: () => t.explainFailure(),
        };
      },
    });
  }
  throw new StoreError('BAD_URI', `cannot open store '${uri.scheme}://${uri.rest}' as a daemon store`);
}
