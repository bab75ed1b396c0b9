import { FormatError } from './errors.js';

/** Pulls the next chunk; `null`/`undefined` means end of input. */
export type PullFn = () => Promise<Uint8Array | null | undefined>;

/** Receives every byte consumed while a tap is active, as views of the input chunks. */
export type Tap = (bytes: Uint8Array) => void | Promise<void>;

const EMPTY = new Uint8Array(0);
const TWO_32 = 2 ** 32;

/** Chunked input: an async or sync iterable of chunks, or a pull function. */
export type ByteInput = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | PullFn;

function toPull(source: ByteInput): { pull: PullFn; close: () => Promise<void> } {
  if (typeof source === 'function') return { pull: source, close: async () => {} };
  const it = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  return {
    pull: async () => {
      const r = await it.next();
      return r.done ? null : r.value;
    },
    close: async () => {
      await it.return?.();
    },
  };
}

/**
 * Sequential reader over chunked binary input with an absolute byte position.
 * Returns views into the input chunks where possible (no copy), so producers must not
 * reuse a chunk's memory after handing it over. `code` is the FormatError code used for
 * premature end of input ('BAD_NAR', 'BAD_WIRE').
 */
export class ByteReader {
  private chunk: Uint8Array = EMPTY;
  private off = 0;
  private base = 0;
  private ended = false;
  private readonly pull: PullFn;
  private readonly closeInput: () => Promise<void>;
  private tap: Tap | undefined;
  private tapFrom = 0;

  /** `code` and `what` name the format in errors; callers may switch them for a nested format. */
  constructor(
    source: ByteInput,
    public code: string,
    public what: string,
  ) {
    const input = toPull(source);
    this.pull = input.pull;
    this.closeInput = input.close;
  }

  /** Absolute number of bytes consumed so far. */
  get position(): number {
    return this.base + this.off;
  }

  /** Bytes buffered and readable without waiting. */
  get buffered(): number {
    return this.chunk.length - this.off;
  }

  fail(detail: string, at = this.position): FormatError {
    return new FormatError(this.code, `cannot read ${this.what}: ${detail} at byte ${at}`);
  }

  /** Makes at least one byte available; false at end of input. */
  async fill(): Promise<boolean> {
    while (this.off >= this.chunk.length) {
      if (this.ended) return false;
      if (this.tap && this.tapFrom < this.chunk.length) await this.tap(this.chunk.subarray(this.tapFrom));
      const next = await this.pull();
      this.base += this.chunk.length;
      this.chunk = EMPTY;
      this.off = 0;
      this.tapFrom = 0;
      if (next == null) {
        this.ended = true;
        return false;
      }
      this.chunk = next;
    }
    return true;
  }

  /** Closes an iterable input early (calls its iterator's return()); pull functions are left alone. */
  async close(): Promise<void> {
    this.ended = true;
    await this.closeInput();
  }

  /** True when no byte remains (pulls if needed). */
  async atEnd(): Promise<boolean> {
    return !(await this.fill());
  }

  private eof(wanted: number): FormatError {
    return this.fail(`unexpected end of input (wanted ${wanted} more bytes)`);
  }

  /** u64 little-endian if 8 bytes are buffered, else undefined. Values above 2^53 become imprecise. */
  u64Sync(): number | undefined {
    if (this.chunk.length - this.off < 8) return undefined;
    const c = this.chunk;
    const o = this.off;
    const lo = (c[o]! | (c[o + 1]! << 8) | (c[o + 2]! << 16)) + c[o + 3]! * 0x1000000;
    const hi = (c[o + 4]! | (c[o + 5]! << 8) | (c[o + 6]! << 16)) + c[o + 7]! * 0x1000000;
    this.off += 8;
    return hi * TWO_32 + lo;
  }

  /** Exactly n bytes; a view when they lie in one chunk, otherwise a fresh copy. */
  async readExact(n: number): Promise<Uint8Array> {
    if (this.chunk.length - this.off >= n) {
      const v = this.chunk.subarray(this.off, this.off + n);
      this.off += n;
      return v;
    }
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      if (!(await this.fill())) throw this.eof(n - got);
      const take = Math.min(n - got, this.chunk.length - this.off);
      out.set(this.chunk.subarray(this.off, this.off + take), got);
      this.off += take;
      got += take;
    }
    return out;
  }

  /** The place in the buffered bytes to rewind() to; valid until the next fill (sync reads never fill). */
  mark(): number {
    return this.off;
  }

  rewind(mark: number): void {
    this.off = mark;
  }

  /** Exactly n bytes if buffered, else undefined (nothing consumed). */
  readSync(n: number): Uint8Array | undefined {
    if (this.chunk.length - this.off < n) return undefined;
    const v = this.chunk.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }

  /** u64 little-endian as a bigint (exact). */
  async u64big(): Promise<bigint> {
    const b = await this.readExact(8);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  }

  /** u64 little-endian; rejects values above 2^53 - 1. */
  async u64(): Promise<number> {
    const at = this.position;
    const fast = this.u64Sync();
    if (fast !== undefined && fast <= Number.MAX_SAFE_INTEGER) return fast;
    if (fast !== undefined) this.off -= 8;
    const big = await this.u64big();
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw this.fail(`integer ${big} is too large`, at);
    return Number(big);
  }

  /** Consumes the zero padding after a field of `len` bytes. */
  async padding(len: number): Promise<void> {
    const n = (8 - (len % 8)) % 8;
    if (n === 0) return;
    const at = this.position;
    const pad = this.readSync(n) ?? (await this.readExact(n));
    for (let i = 0; i < n; i++) if (pad[i] !== 0) throw this.fail('non-zero padding', at + i);
  }

  /** Yields exactly n bytes as views of the input chunks. */
  async *stream(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (this.off >= this.chunk.length && !(await this.fill())) throw this.eof(left);
      const take = Math.min(left, this.chunk.length - this.off);
      const v = this.chunk.subarray(this.off, this.off + take);
      this.off += take;
      left -= take;
      yield v;
    }
  }

  /** Starts copying every consumed byte to `tap` (views; whole input chunks where possible). */
  startTap(tap: Tap): void {
    if (this.tap) throw new Error('ByteReader: a tap is already active');
    this.tap = tap;
    this.tapFrom = this.off;
  }

  /** Flushes the consumed part of the current chunk to the tap and stops tapping. */
  async endTap(): Promise<void> {
    const tap = this.tap;
    this.tap = undefined;
    if (tap && this.off > this.tapFrom) await tap(this.chunk.subarray(this.tapFrom, this.off));
  }

  /** Stops tapping without flushing (after a failure). */
  dropTap(): void {
    this.tap = undefined;
  }
}
