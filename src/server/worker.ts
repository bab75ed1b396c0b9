// The worker-protocol server (what `nix-daemon` does for one connection): the handshake, then
// operations until the client hangs up. Speaks 1.34 (Nix 2.8.0) and serves clients from 1.10 up,
// gating every field on min(client, 1.34). Errors follow Nix 2.8: a failure while an operation is
// "in work" is reported with STDERR_ERROR and the connection goes on; a failure before that (a
// malformed argument, an unknown opcode) or a malformed stream is reported and ends the connection.
import { FormatError } from '../formats/errors.js';
import { WireReader, WireWriter } from '../formats/wire.js';
import { StoreError } from '../store/errors.js';
import { NIX_VERSION_STRING } from '../store/version.js';
import {
  MIN_CLIENT_VERSION,
  protoMinor,
  WORKER_MAGIC_1,
  WORKER_MAGIC_2,
  WORKER_PROTOCOL_VERSION,
} from '../store/worker-protocol.js';
import {
  type DaemonStore,
  defaultClientSettings,
  type WorkerBuilder,
  type WorkerConn,
  type WorkerSubstituters,
} from './worker-context.js';
import { TunnelLogger } from './worker-logger.js';
import { addOps } from './worker-ops-add.js';
import { buildOps, WorkerBuildFailure } from './worker-ops-build.js';
import { fastOps } from './worker-ops-fast.js';
import { gcOps } from './worker-ops-gc.js';
import { queryOps } from './worker-ops-query.js';

import { optionOps } from './worker-options.js';

/**
 * Set on the error that ends a session once the client has been sent it: a `--stdio` daemon then
 * ends quietly, as nix-daemon --stdio does (the client shows the error).
 */
export const TOLD_CLIENT = Symbol('the client was told');

/** The version string sent to clients ≥ 1.33. */
export const TIX_DAEMON_VERSION = NIX_VERSION_STRING;

export interface WorkerServerIo {
  /** The client's bytes; null at end of input. */
  pull: () => Promise<Uint8Array | null | undefined>;
  write(chunks: Uint8Array[]): Promise<void>;
  /** Writes at once if that needs no waiting, else writes nothing and answers false (WorkerOutput). */
  tryWrite?: (chunks: Uint8Array[]) => boolean;
  /** Calls `f` once the client hung up (even while nobody reads); returns an unsubscribe. */
  onEnd?: (f: () => void) => () => void;
}

export interface WorkerServerOptions {
  /** A trusted client (trusted-users) may skip signature checks, repair, set any option. */
  trusted: boolean;
  builder?: WorkerBuilder;
  /** The daemon's substituters, opened per request that needs them; undefined: none. */
  substituters?: () => WorkerSubstituters | undefined;
  /** Runs after the handshake; what it throws is sent to the client and ends the session. */
  authorize?: () => void;
  /** The daemon's own settings (nix.conf text values). */
  daemonSettings?: (name: string) => string | undefined;
  /** Limit on one string in a request (default 64 MiB). */
  maxStringLength?: number;
}

const OPS: Record<number, ((c: WorkerConn) => Promise<void>) | undefined> = {
  ...queryOps,
  ...addOps,
  ...buildOps,
  ...gcOps,
  ...optionOps,
};

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/**
 * Serves one connection until the client hangs up. Resolves on a clean end; rejects with the
 * reason when the session was ended because of the client (bad magic, too old, malformed data).
 */
export async function serveWorkerConnection(
  store: DaemonStore,
  io: WorkerServerIo,
  opts: WorkerServerOptions,
): Promise<void> {
  const inp = new WireReader(io.pull, {
    what: 'worker protocol stream',
    maxStringLength: opts.maxStringLength,
  });
  const hello = new WireWriter();
  if (await inp.atEnd()) return;
  const magic = await inp.u64big();
  if (magic !== BigInt(WORKER_MAGIC_1)) throw new StoreError('REMOTE_PROTOCOL', 'protocol mismatch');
  await io.write(hello.u64(WORKER_MAGIC_2).u64(WORKER_PROTOCOL_VERSION).takeChunks());
  const clientVersion = await inp.u64();
  if (clientVersion < MIN_CLIENT_VERSION)
    throw new StoreError('REMOTE_PROTOCOL', 'the Nix client version is too old');
  const version = Math.min(clientVersion, WORKER_PROTOCOL_VERSION);
  const minor = protoMinor(version);
  if (minor >= 14 && (await inp.u64()) !== 0) await inp.u64(); // obsolete CPU affinity
  if (minor >= 11) await inp.u64(); // obsolete reserveSpace
  if (minor >= 33) await io.write(hello.string(TIX_DAEMON_VERSION).takeChunks());

  const logger = new TunnelLogger(io, minor);
  const ac = new AbortController();
  const unsubscribe = io.onEnd?.(() => ac.abort());
  const conn: WorkerConn = {
    store,
    inp,
    reply: new WireWriter(),
    logger,
    minor,
    trusted: opts.trusted,
    settings: defaultClientSettings(),
    builder: opts.builder,
    substituters: opts.substituters,
    signal: ac.signal,
    daemonSettings: opts.daemonSettings ?? (() => undefined),
  };
  try {
    logger.startWork();
    try {
      opts.authorize?.();
    } catch (e) {
      logger.stopWork({ message: errorMessage(e) });
      await logger.flush();
      throw e;
    }
    logger.stopWork();
    await logger.flush();

    const fast = fastOps(store);
    const readOp = () => inp.u64Sync();
    for (;;) {
      let op = inp.trySync(readOp);
      if (op === undefined) {
        if (await inp.atEnd()) return;
        op = inp.trySync(readOp) ?? (await inp.u64());
      }
      const handler = OPS[op];
      try {
        if (!handler) throw new StoreError('REMOTE_PROTOCOL', `invalid operation ${op}`);
        const fastOp = fast[op];
        let done = false;
        if (fastOp !== undefined) {
          // Answered in this turn, if at all: its messages and reply go out in one write below.
          logger.hold();
          try {
            done = fastOp(conn);
          } finally {
            if (!done) logger.release();
          }
        }
        if (!done) await handler(conn);
        logger.send(conn.reply.takeChunks());
      } catch (e) {
        conn.reply.takeChunks();
        const inWork = logger.inWork;
        if (e instanceof FormatError || !inWork) {
          // The request could not be read (or the reply was half sent): the stream is out of step.
          if (inWork || !(e instanceof FormatError && /unexpected end of input/.test(e.message))) {
            logger.stopWork({ message: errorMessage(e) });
            await logger.flush().catch(() => {});
            if (e instanceof Error) (e as { [TOLD_CLIENT]?: boolean })[TOLD_CLIENT] = true;
          }
          throw e;
        }
        logger.stopWork({
          message: errorMessage(e),
          exitStatus: e instanceof WorkerBuildFailure ? e.exitStatus : 1,
        });
      }
      const flushed = logger.flushNow();
      if (flushed !== undefined) await flushed;
    }
  } finally {
    unsubscribe?.();
    ac.abort();
  }
}
