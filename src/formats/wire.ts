/**
 * Nix wire primitives (serialise.hh): u64 little-endian integers, padded byte strings,
 * string lists/sets/maps, framed streams, error records; NARs passing through a stream.
 * Shared by the serve protocol, the worker protocol and the build hook.
 */
import { type ByteInput, ByteReader } from './byte-reader.js';
import type { FormatError } from './errors.js';
import { type ParseNarOptions, parseNarFrom } from './nar-parse.js';
import type { NarSink } from './nar-types.js';
import type { WireErrorInfo } from './wire-writer.js';

export { framed, type WireErrorInfo, WireWriter } from './wire-writer.js';

export const SERVE_MAGIC_1 = 0x390c9deb;
export const SERVE_MAGIC_2 = 0x5452eecb;
export const WORKER_MAGIC_1 = 0x6e697863;
export const WORKER_MAGIC_2 = 0x6478696f;
/** Worker protocol stderr message tags. */
export const STDERR = {
  NEXT: 0x6f6c6d67,
  READ: 0x64617461,
  WRITE: 0x64617416,
  LAST: 0x616c7473,
  ERROR: 0x63787470,
  START_ACTIVITY: 0x53545254,
  STOP_ACTIVITY: 0x53544f50,
  RESULT: 0x52534c54,
} as const;

const dec = new TextDecoder('utf-8', { ignoreBOM: true });

export interface WireReaderOptions {
  /** Longest string or byte string accepted by default (64 MiB); longer ones are BAD_WIRE. */
  maxStringLength?: number;
  /** Name of the stream in error messages (default 'wire stream'). */
  what?: string;
}

/**
 * Reads wire primitives from chunked input. Errors are FormatError('BAD_WIRE', '… at byte N')
 * (NARs inside the stream fail with 'BAD_NAR'). Lengths are checked before anything is allocated.
 */
export class WireReader {
  private readonly r: ByteReader;
  private readonly maxString: number;

  constructor(source: ByteInput, opts: WireReaderOptions = {}) {
    this.r = new ByteReader(source, 'BAD_WIRE', opts.what ?? 'wire stream');
    this.maxString = opts.maxStringLength ?? 64 * 1024 * 1024;
  }

  /** Bytes consumed so far. */
  get position(): number {
    return this.r.position;
  }

  /** True when the input has ended exactly here. */
  atEnd(): Promise<boolean> {
    return this.r.atEnd();
  }

  /** An error of this stream at byte `at` (default: the current position). */
  fail(detail: string, at = this.r.position): FormatError {
    return this.r.fail(detail, at);
  }

  /** u64; values above 2^53 - 1 are rejected. */
  u64(): Promise<number> {
    return this.r.u64();
  }

  u64big(): Promise<bigint> {
    return this.r.u64big();
  }

  /** A 64-bit two's complement value (e.g. time_t). */
  async i64(): Promise<number> {
    const at = this.r.position;
    const v = BigInt.asIntN(64, await this.r.u64big());
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw this.fail(`integer ${v} is too large`, at);
    }
    return Number(v);
  }

  /** An integer read into a 32-bit field (Nix's readInt): values above 2^32 - 1 are rejected. */
  async u32(): Promise<number> {
    const at = this.r.position;
    const v = await this.r.u64();
    if (v > 0xffffffff) throw this.fail(`integer ${v} is too large for a 32-bit field`, at);
    return v;
  }

  /** Any non-zero value is true. */
  async bool(): Promise<boolean> {
    const b = await this.r.readExact(8);
    return b.some((x) => x !== 0);
  }

  /** Expects the u64 `value` (e.g. a magic number). */
  async expectU64(value: number, what: string): Promise<void> {
    const at = this.r.position;
    const v = await this.r.u64big();
    if (v !== BigInt(value))
      throw this.fail(`expected ${what} 0x${value.toString(16)}, got 0x${v.toString(16)}`, at);
  }

  /** A padded byte string of at most `maxLen` bytes; the result is a fresh copy. */
  async bytes(maxLen = this.maxString): Promise<Uint8Array> {
    const at = this.r.position;
    const len = await this.r.u64();
    if (len > maxLen) throw this.fail(`string of ${len} bytes exceeds the limit of ${maxLen}`, at);
    const b = (await this.r.readExact(len)).slice();
    await this.r.padding(len);
    return b;
  }

  /** A padded string decoded as UTF-8. */
  async string(maxLen?: number): Promise<string> {
    return this.bufferedString(maxLen) ?? dec.decode(await this.bytes(maxLen));
  }

  /** A list or set of strings (any order). */
  async strings(maxLen?: number): Promise<string[]> {
    const n = await this.u64();
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.bufferedString(maxLen) ?? (await this.string(maxLen)));
    return out;
  }

  /** trySync(stringSync) without the closure, for the loops above. */
  private bufferedString(maxLen?: number): string | undefined {
    const mark = this.r.mark();
    const s = this.stringSync(maxLen);
    if (s === undefined) this.r.rewind(mark);
    return s;
  }

  /** A map<string,string>. */
  async stringMap(maxLen?: number): Promise<Map<string, string>> {
    const n = await this.u64();
    const out = new Map<string, string>();
    for (let i = 0; i < n; i++) {
      const k = await this.string(maxLen);
      out.set(k, await this.string(maxLen));
    }
    return out;
  }

  /** Exactly n raw bytes (unpadded) as views of the input, for streaming a payload of known size. */
  stream(n: number): AsyncGenerator<Uint8Array> {
    return this.r.stream(n);
  }

  /** Exactly n raw bytes (unpadded), as a fresh copy. */
  async readExact(n: number): Promise<Uint8Array> {
    return (await this.r.readExact(n)).slice();
  }

  /** An Error record (worker protocol >= 1.26). */
  async error(): Promise<WireErrorInfo> {
    const at = this.r.position;
    const type = await this.string(64);
    if (type !== 'Error') throw this.fail(`expected an 'Error' record, got '${type}'`, at);
    const level = await this.u64();
    await this.string(); // legacy name, ignored
    const message = await this.string();
    const traces: string[] = [];
    const posAt = this.r.position;
    if ((await this.u64big()) !== 0n) throw this.fail('error positions are not supported', posAt);
    const n = await this.u64();
    for (let i = 0; i < n; i++) {
      const tAt = this.r.position;
      if ((await this.u64big()) !== 0n) throw this.fail('trace positions are not supported', tAt);
      traces.push(await this.string());
    }
    return { level, message, traces };
  }

  /**
   * Decodes a value from the bytes already buffered, without waiting: `f` uses the *Sync readers
   * below, which return undefined when their bytes are not all there. Returns undefined with
   * nothing consumed when any of them does (the async readers then take over, and report errors).
   */
  trySync<T>(f: () => T | undefined): T | undefined {
    const mark = this.r.mark();
    const v = f();
    if (v === undefined) this.r.rewind(mark);
    return v;
  }

  /** A buffered u64 (at most 2^53 - 1), else undefined; see trySync. */
  u64Sync(): number | undefined {
    const v = this.r.u64Sync();
    return v !== undefined && v <= Number.MAX_SAFE_INTEGER ? v : undefined;
  }

  /** A buffered bool, else undefined; see trySync. */
  boolSync(): boolean | undefined {
    const b = this.r.readSync(8);
    return b?.some((x) => x !== 0);
  }

  /** A buffered well-formed string of at most `maxLen` bytes, else undefined; see trySync. */
  stringSync(maxLen = this.maxString): string | undefined {
    const len = this.u64Sync();
    if (len === undefined || len > maxLen) return undefined;
    const b = this.r.readSync(len + ((8 - (len % 8)) % 8));
    if (!b) return undefined;
    for (let i = len; i < b.length; i++) if (b[i] !== 0) return undefined;
    return dec.decode(b.subarray(0, len));
  }

  /** A buffered list of strings, else undefined; see trySync. */
  stringsSync(maxLen?: number): string[] | undefined {
    const n = this.u64Sync();
    if (n === undefined || n * 8 > this.r.buffered) return undefined;
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const s = this.stringSync(maxLen);
      if (s === undefined) return undefined;
      out.push(s);
    }
    return out;
  }

  /** Parses the NAR that follows into `sink`, consuming exactly its bytes. */
  readNar(sink: NarSink, opts?: ParseNarOptions): Promise<{ narSize: number }> {
    return parseNarFrom(this.r, sink, opts);
  }

  /**
   * Copies the NAR that follows to `write` (views of the input, in input-sized pieces) while
   * parsing it to find its end, and optionally replays it into `sink`.
   */
  async copyNar(
    write: (chunk: Uint8Array) => void | Promise<void>,
    opts: ParseNarOptions & { sink?: NarSink } = {},
  ): Promise<{ narSize: number }> {
    this.r.startTap(write);
    let ok = false;
    try {
      const res = await parseNarFrom(this.r, opts.sink ?? skipSink, opts);
      ok = true;
      return res;
    } finally {
      if (ok) await this.r.endTap();
      else this.r.dropTap();
    }
  }

  /** The NAR that follows as a byte stream (see copyNar); must be consumed to the end. */
  narStream(opts: ParseNarOptions = {}): AsyncIterable<Uint8Array> {
    return narChannel((write) => this.copyNar(write, opts));
  }

  /**
   * The payload of a framed stream (worker protocol AddToStoreNar / AddMultipleToStore).
   * If the consumer stops early, the remaining frames are skipped so the stream stays in sync.
   */
  async *framedSource(): AsyncGenerator<Uint8Array> {
    let finished = false;
    let threw = false;
    try {
      for (;;) {
        const len = await this.u32();
        if (len === 0) {
          finished = true;
          return;
        }
        yield* this.r.stream(len);
      }
    } catch (e) {
      threw = true;
      throw e;
    } finally {
      if (!finished && !threw) {
        for (let len = await this.u32(); len !== 0; len = await this.u32())
          for await (const _ of this.r.stream(len));
      }
    }
  }
}

const skipSink: NarSink = { directory() {}, symlink() {}, regular: () => ({ write() {}, close() {} }) };

/** Turns a push-style producer into a pull stream with back-pressure (at most a few chunks queued). */
function narChannel(
  produce: (write: (chunk: Uint8Array) => Promise<void>) => Promise<unknown>,
): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      const queue: Uint8Array[] = [];
      let wakeConsumer: (() => void) | undefined;
      let wakeProducer: (() => void) | undefined;
      let done = false;
      let failure: unknown;
      let cancelled = false;
      const write = async (chunk: Uint8Array) => {
        if (cancelled) throw new Error('NAR stream consumer stopped early');
        queue.push(chunk);
        wakeConsumer?.();
        if (queue.length >= 4) await new Promise<void>((res) => (wakeProducer = res));
      };
      produce(write).then(
        () => {
          done = true;
          wakeConsumer?.();
        },
        (e) => {
          failure = e ?? new Error('NAR stream failed');
          done = true;
          wakeConsumer?.();
        },
      );
      try {
        for (;;) {
          const next = queue.shift();
          if (next) {
            if (queue.length < 4 && wakeProducer) {
              const w = wakeProducer;
              wakeProducer = undefined;
              w();
            }
            yield next;
            continue;
          }
          if (done) {
            if (failure) throw failure;
            return;
          }
          await new Promise<void>((res) => (wakeConsumer = res));
          wakeConsumer = undefined;
        }
      } finally {
        if (!done) {
          cancelled = true;
          wakeProducer?.();
        }
      }
    },
  };
}
