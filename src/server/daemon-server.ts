// `tix daemon`: the worker protocol on a Unix socket, many clients at once in one process. Each
// connection is identified by its peer credentials and judged by trusted-users / allowed-users;
// a misbehaving client only ever loses its own connection.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { StreamInput } from '../distribute/stream-input.js';
import { StreamOutput } from '../distribute/stream-output.js';
import { withTempRootScope } from '../store/temp-roots.js';
import { getPeerCred, type PeerCred } from './peercred.js';
import { checkPeer, identifyPeer, type TrustSettings, type UserDb } from './trust.js';
import { serveWorkerConnection, type WorkerServerOptions } from './worker.js';
import type { DaemonStore } from './worker-context.js';

export interface DaemonServerOptions {
  store: DaemonStore;
  trust: TrustSettings;
  builder?: WorkerServerOptions['builder'];
  substituters?: WorkerServerOptions['substituters'];
  daemonSettings?: WorkerServerOptions['daemonSettings'];
  /** One line per event (accepted connection, connection errors), without trailing newline. */
  log?: (line: string) => void;
  /** Peer credentials of a connection (default: SO_PEERCRED through the native addon). */
  peerCred?: (socket: Socket) => PeerCred | undefined;
  userDb?: UserDb;
  /** Longest string accepted in a request (default 64 MiB). */
  maxStringLength?: number;
}

export interface DaemonServer {
  readonly socketPath: string;
  /** Connections being served now. */
  readonly active: number;
  /** Stops listening, ends open connections, removes the socket file. */
  close(): Promise<void>;
}

/** Serves one accepted connection to its end; never throws. */
export async function handleDaemonConnection(socket: Socket, opts: DaemonServerOptions): Promise<void> {
  const log = opts.log ?? (() => {});
  const input = new StreamInput(socket);
  const output = new StreamOutput(socket);
  let peerText = 'unknown peer';
  try {
    const cred = (opts.peerCred ?? getPeerCred)(socket);
    const peer = identifyPeer(cred, opts.userDb);
    const { trusted, refusal } = checkPeer(peer, opts.trust, opts.userDb);
    peerText = `pid ${peer.pid ?? '<unknown>'}, user ${peer.user}${trusted ? ' (trusted)' : ''}`;
    log(`accepted connection from ${peerText}`);
    // The connection's temp roots end with it, as with a Nix daemon's process per connection.
    await withTempRootScope(() =>
      serveWorkerConnection(
        opts.store,
        {
          pull: input.pull,
          write: (c) => output.write(c),
          tryWrite: (c) => output.tryWrite(c),
          onEnd: (f) => input.onEnd(f),
        },
        {
          trusted,
          builder: opts.builder,
          substituters: opts.substituters,
          daemonSettings: opts.daemonSettings,
          maxStringLength: opts.maxStringLength,
          authorize: () => {
            if (refusal) throw new Error(refusal);
          },
        },
      ),
    );
  } catch (e) {
    log(`error processing connection (${peerText}): ${(e as Error)?.message ?? String(e)}`);
  } finally {
    await output.end().catch(() => {});
    socket.destroy();
  }
}

/** Listens on `socketPath` (created world-writable like Nix's, replacing a stale one). */
export async function startDaemonServer(
  socketPath: string,
  opts: DaemonServerOptions,
): Promise<DaemonServer> {
  mkdirSync(dirname(socketPath), { recursive: true });
  rmSync(socketPath, { force: true });
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    void handleDaemonConnection(socket, opts).finally(() => sockets.delete(socket));
  });
  server.on('error', (e) => opts.log?.(`daemon socket error: ${e.message}`));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o666);
  return {
    socketPath,
    get active() {
      return sockets.size;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      rmSync(socketPath, { force: true });
    },
  };
}
