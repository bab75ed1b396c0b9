// The daemon side of the worker protocol's stderr stream (Nix's TunnelLogger): log messages,
// activities and results reach the client only while an operation is "in work" (between
// startWork and stopWork); messages produced outside are queued until the next startWork. Every
// byte to the client goes through one ordered queue, so log lines, replies and NARs never interleave.
import { WireWriter } from '../formats/wire.js';
import { STDERR, Verbosity } from '../store/worker-protocol.js';

export type LogField = number | bigint | string;

export interface WorkerOutput {
  write(chunks: Uint8Array[]): Promise<void>;
  /**
   * Writes `chunks` at once when the output can take them without waiting (nothing buffered
   * beyond its limit) and returns true; otherwise writes nothing and returns false. Throws when
   * the output is closed.
   */
  tryWrite?(chunks: Uint8Array[]): boolean;
}

const JOIN_LIMIT = 256 * 1024;

/** Copies `chunks` (`bytes` in all) into one buffer. */
function concat(chunks: Uint8Array[], bytes: number): Uint8Array {
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Joins runs of small chunks into one buffer (large chunks, such as NAR data, are kept as they are). */
function joinSmall(chunks: Uint8Array[]): Uint8Array[] {
  if (chunks.length < 2) return chunks;
  let total = 0;
  for (const c of chunks) total += c.byteLength;
  if (total < JOIN_LIMIT) return [concat(chunks, total)];
  const out: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let runBytes = 0;
  const end = () => {
    if (run.length === 1) out.push(run[0]!);
    else if (run.length > 1) out.push(concat(run, runBytes));
    run = [];
    runBytes = 0;
  };
  for (const c of chunks) {
    if (c.byteLength >= JOIN_LIMIT) {
      end();
      out.push(c);
      continue;
    }
    if (runBytes + c.byteLength > JOIN_LIMIT) end();
    run.push(c);
    runBytes += c.byteLength;
  }
  end();
  return out;
}

export class TunnelLogger {
  #canSend = false;
  #pending: Uint8Array[] = [];
  #chain: Promise<void> = Promise.resolve();
  /** Writes queued on #chain and not finished yet. */
  #writing = 0;
  #out: Uint8Array[] = [];
  #scheduled: NodeJS.Immediate | undefined;
  #held = false;
  /** One writer for every message (it hands out views of one buffer; see WireWriter). */
  readonly #w = new WireWriter();
  #failure: unknown;
  #nextActivity = 1n;
  readonly #activityBase = BigInt(process.pid) << 32n;
  /** The client's verbosity (SetOptions); messages above it are dropped. */
  verbosity: number = Verbosity.Info;

  constructor(
    private readonly io: WorkerOutput,
    private readonly minor: number,
  ) {}

  /** True between startWork and stopWork. */
  get inWork(): boolean {
    return this.#canSend;
  }

  /**
   * Queues bytes for the client, in order; a write failure is kept and reported by flush(). What
   * is queued within one turn of the event loop goes out as one write (small pieces joined), so
   * that a reply costs one system call rather than one per message; flush() writes at once.
   */
  send(chunks: Uint8Array[]): void {
    if (chunks.length === 0) return;
    for (const c of chunks) this.#out.push(c);
    if (!this.#held) this.#scheduled ??= setImmediate(() => this.#kick());
  }

  /**
   * Until release() or the next flush, what is sent waits for that flush instead of going out at
   * the end of the turn (for a caller that flushes in the same turn anyway).
   */
  hold(): void {
    this.#held = true;
  }

  release(): void {
    this.#held = false;
    if (this.#out.length > 0) this.#scheduled ??= setImmediate(() => this.#kick());
  }

  #kick(): void {
    this.#held = false;
    if (this.#scheduled !== undefined) {
      clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
    }
    if (this.#out.length === 0) return;
    const out = joinSmall(this.#out);
    this.#out = [];
    this.#writing++;
    this.#chain = this.#chain
      .then(() => (this.#failure === undefined ? this.io.write(out) : undefined))
      .catch((e: unknown) => {
        this.#failure ??= e;
      })
      .finally(() => {
        this.#writing--;
      });
  }

  /** Waits until everything queued was written; throws if the client is gone. */
  async flush(): Promise<void> {
    this.#kick();
    await this.#chain;
    if (this.#failure !== undefined) throw this.#failure;
  }

  /**
   * flush() without waiting when it can be done at once (no earlier write pending and the output
   * takes the bytes now): then undefined, else flush()'s promise.
   */
  flushNow(): Promise<void> | undefined {
    this.#held = false;
    const io = this.io;
    if (this.#writing > 0 || this.#failure !== undefined || io.tryWrite === undefined) return this.flush();
    if (this.#scheduled !== undefined) {
      clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
    }
    if (this.#out.length === 0) return undefined;
    const out = joinSmall(this.#out);
    try {
      if (!io.tryWrite(out)) return this.flush();
    } catch (e) {
      this.#failure = e;
      this.#out = [];
      return Promise.reject(e);
    }
    this.#out = [];
    return undefined;
  }

  #message(w: WireWriter): void {
    const bytes = w.takeChunks();
    if (this.#canSend) this.send(bytes);
    else this.#pending.push(...bytes);
  }

  startWork(): void {
    this.#canSend = true;
    const p = this.#pending;
    this.#pending = [];
    this.send(p);
  }

  /** Ends the operation with STDERR_LAST, or STDERR_ERROR carrying `error`'s message. */
  stopWork(error?: { message: string; exitStatus?: number }): void {
    this.#canSend = false;
    const w = this.#w;
    if (!error) w.u64(STDERR.LAST);
    else if (this.minor >= 26)
      w.u64(STDERR.ERROR).error({ level: Verbosity.Error, message: error.message, traces: [] });
    else
      w.u64(STDERR.ERROR)
        .string(error.message)
        .u64(error.exitStatus ?? 1);
    this.send(w.takeChunks());
  }

  /** A log line (STDERR_NEXT), shown by the client as it is. */
  log(level: number, text: string): void {
    if (level > this.verbosity) return;
    this.#message(this.#w.u64(STDERR.NEXT).string(text.endsWith('\n') ? text : `${text}\n`));
  }

  warn(text: string): void {
    this.log(Verbosity.Warn, `warning: ${text}`);
  }

  /** An error as a log line, its further lines indented under the message as Nix prints them. */
  error(text: string): void {
    this.log(Verbosity.Error, `error: ${text.replaceAll('\n', '\n       ')}`);
  }

  /** Starts an activity (clients < 1.20 get its text as a log line); returns its id. */
  startActivity(level: number, type: number, text: string, fields: LogField[] = [], parent = 0n): bigint {
    const id = this.#activityBase + this.#nextActivity++;
    if (this.minor < 20) {
      if (text !== '') this.log(level, `${text}...`);
      return id;
    }
    const w = this.#w.u64(STDERR.START_ACTIVITY).u64(id).u64(level).u64(type).string(text);
    writeFields(w, fields);
    this.#message(w.u64(parent));
    return id;
  }

  stopActivity(id: bigint): void {
    if (this.minor < 20) return;
    this.#message(this.#w.u64(STDERR.STOP_ACTIVITY).u64(id));
  }

  /** A result of an activity; build log lines of clients < 1.20 become plain log lines. */
  result(id: bigint, type: number, fields: LogField[]): void {
    if (this.minor < 20) {
      if (type === 101 && typeof fields[0] === 'string') this.log(Verbosity.Error, fields[0]);
      return;
    }
    const w = this.#w.u64(STDERR.RESULT).u64(id).u64(type);
    writeFields(w, fields);
    this.#message(w);
  }
}

function writeFields(w: WireWriter, fields: LogField[]): void {
  w.u64(fields.length);
  for (const f of fields) {
    if (typeof f === 'string') w.u64(1).string(f);
    else w.u64(0).u64(f);
  }
}
