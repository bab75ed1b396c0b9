// One worker-protocol client connection (Nix's RemoteStore::Connection): the handshake, the
// stderr stream after each request (log lines, activities, errors), framed uploads that keep
// reading the daemon's stderr while sending, so an early error stops the upload.
import { FormatError } from '../formats/errors.js';
import { WireReader, WireWriter } from '../formats/wire.js';
import type { BufferPool } from './buffer-pool.js';
import { StoreError } from './errors.js';
import {
  printProtocolVersion,
  protoMinor,
  ResultType,
  STDERR,
  WORKER_MAGIC_1,
  WORKER_MAGIC_2,
  WORKER_PROTOCOL_VERSION,
} from './worker-protocol.js';

/** A byte pipe to a daemon: a Unix socket, or the stdio of `ssh host nix-daemon --stdio`. */
export interface DaemonTransport {
  /** For messages: the socket path or host. */
  readonly name: string;
  pull: () => Promise<Uint8Array | null | undefined>;
  /** Writes `chunks`; `onWritten` (if given) gets each one once the system has taken it. */
  write(chunks: Uint8Array[], onWritten?: (chunk: Uint8Array) => void): Promise<void>;
  close(): Promise<void>;
  /** What went wrong when the peer vanished (e.g. ssh's diagnosis), if known. */
  explainFailure?(): StoreError | undefined;
}

export interface StderrHandlers {
  /** Log text from the daemon (STDERR_NEXT, build log lines), one line at a time without newline. */
  onLog?: (line: string) => void;
  /** Data for STDERR_READ requests (uploads to daemons older than 1.23). */
  source?: () => Promise<Uint8Array | null | undefined>;
}

const FRAME = 32 * 1024;
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

export class DaemonConnection {
  readonly inp: WireReader;
  readonly out = new WireWriter();
  daemonVersion = 0;
  daemonNixVersion = '';
  /** Set when the stream is out of step; the connection must not be reused. */
  broken = false;

  constructor(readonly transport: DaemonTransport) {
    this.inp = new WireReader(transport.pull, { what: `daemon stream of '${transport.name}'` });
  }

  get minor(): number {
    return protoMinor(this.daemonVersion);
  }

  async handshake(onLog?: (line: string) => void): Promise<void> {
    this.out.u64(WORKER_MAGIC_1).u64(WORKER_PROTOCOL_VERSION);
    await this.flush();
    const magic = await this.inp.u64big();
    if (magic !== BigInt(WORKER_MAGIC_2)) {
      throw new StoreError('REMOTE_PROTOCOL', `protocol mismatch from daemon '${this.transport.name}'`);
    }
    const daemonVersion = await this.inp.u64();
    if (daemonVersion >> 8 !== 1 || protoMinor(daemonVersion) < 10) {
      throw new StoreError(
        'REMOTE_PROTOCOL',
        `daemon '${this.transport.name}' speaks worker protocol ${printProtocolVersion(daemonVersion)}, which tix does not support`,
      );
    }
    this.daemonVersion = Math.min(daemonVersion, WORKER_PROTOCOL_VERSION);
    if (this.minor >= 14) this.out.u64(0); // no CPU affinity
    if (this.minor >= 11) this.out.u64(0); // reserveSpace
    await this.flush();
    if (this.minor >= 33) this.daemonNixVersion = await this.inp.string(1024);
    await this.processStderr({ onLog });
  }

  flush(): Promise<void> {
    return this.transport.write(this.out.takeChunks());
  }

  /** Reads stderr messages up to STDERR_LAST; STDERR_ERROR becomes a StoreError('REMOTE'). */
  async processStderr(h: StderrHandlers = {}): Promise<void> {
    for (;;) {
      const msg = await this.inp.u64();
      switch (msg) {
        case STDERR.LAST:
          return;
        case STDERR.ERROR: {
          let message: string;
          if (this.minor >= 26) message = (await this.inp.error()).message;
          else {
            message = await this.inp.string();
            await this.inp.u64(); // exit status
          }
          throw new StoreError('REMOTE', message.replace(ANSI, ''));
        }
        case STDERR.NEXT:
          emitLines(h.onLog, await this.inp.string());
          break;
        case STDERR.START_ACTIVITY: {
          await this.inp.u64big(); // id
          const level = await this.inp.u64();
          await this.inp.u64(); // type
          const text = await this.inp.string();
          await readFields(this.inp);
          await this.inp.u64big(); // parent
          if (text !== '' && level <= 3) emitLines(h.onLog, `${text}...`);
          break;
        }
        case STDERR.STOP_ACTIVITY:
          await this.inp.u64big();
          break;
        case STDERR.RESULT: {
          await this.inp.u64big();
          const type = await this.inp.u64();
          const fields = await readFields(this.inp);
          if (type === ResultType.BuildLogLine && typeof fields[0] === 'string')
            emitLines(h.onLog, fields[0]);
          break;
        }
        case STDERR.READ: {
          const len = await this.inp.u64();
          if (!h.source)
            throw new StoreError(
              'REMOTE_PROTOCOL',
              `daemon '${this.transport.name}' asked for data nobody sends`,
            );
          const chunk = (await h.source()) ?? new Uint8Array(0);
          const piece = chunk.subarray(0, len);
          if (piece.length < chunk.length)
            throw new Error('DaemonConnection: source returned more than was asked for');
          this.out.bytes(piece);
          await this.flush();
          break;
        }
        case STDERR.WRITE:
          await this.inp.bytes();
          break;
        default:
          throw new StoreError(
            'REMOTE_PROTOCOL',
            `got unknown message type ${msg.toString(16)} from daemon '${this.transport.name}'`,
          );
      }
    }
  }

  /**
   * Sends `data` as a framed stream while reading the daemon's stderr, as Nix's withFramedSink: if
   * the daemon reports an error before the upload is complete, the rest is not sent.
   */
  /**
   * Sends `data` as frames while reading the daemon's messages. Chunks of `data` go back to
   * `pool` once their last frame is written.
   */
  async framedUpload(
    data: AsyncIterable<Uint8Array>,
    h: StderrHandlers = {},
    pool?: BufferPool,
  ): Promise<void> {
    await this.flush();
    let stderrDone = false;
    const stderr = this.processStderr(h).finally(() => {
      stderrDone = true;
    });
    stderr.catch(() => {});
    try {
      outer: for await (const chunk of data) {
        for (let at = 0; at < chunk.length; at += FRAME) {
          if (stderrDone) break outer;
          const piece = chunk.subarray(at, at + FRAME);
          const last = pool !== undefined && at + FRAME >= chunk.length;
          await this.transport.write(
            [new WireWriter().u64(piece.length).toBytes(), piece],
            last ? (c) => c === piece && pool.give(chunk) : undefined,
          );
        }
      }
      await this.transport.write([new Uint8Array(8)]);
    } catch (e) {
      if (!stderrDone) {
        this.broken = true;
        await stderr; // the daemon's own error explains the failed write best
        throw e;
      }
    }
    await stderr;
  }
}

function emitLines(onLog: ((line: string) => void) | undefined, text: string): void {
  if (!onLog) return;
  const t = text.endsWith('\n') ? text.slice(0, -1) : text;
  for (const line of t.split('\n')) onLog(line);
}

async function readFields(inp: WireReader): Promise<(bigint | string)[]> {
  const n = await inp.u64();
  const out: (bigint | string)[] = [];
  for (let i = 0; i < n; i++) {
    const type = await inp.u64();
    if (type === 0) out.push(await inp.u64big());
    else if (type === 1) out.push(await inp.string());
    else throw new FormatError('BAD_WIRE', `got unsupported field type ${type} from the daemon`);
  }
  return out;
}
