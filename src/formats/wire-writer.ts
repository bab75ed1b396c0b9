/** Writing Nix wire primitives (serialise.hh): see wire.ts for the reader and the format notes. */
import { compareBytes, padded, putU64 } from './nar-tokens.js';

/** Nix's serialised Error (worker protocol >= 1.26): no positions, traces are plain hints. */
export interface WireErrorInfo {
  level: number;
  message: string;
  traces: string[];
}

const enc = new TextEncoder();
const CHUNK = 64 * 1024;

/**
 * Builds a byte stream from wire primitives; bytes are taken with takeChunks() or toBytes(). The
 * buffer is used bump-style: taking hands out the bytes written so far as a view and writing goes
 * on after them, so that a long-lived writer (a connection's replies) allocates only when a buffer
 * is full, not once per message. The first buffer is small, for writers of one short message.
 */
export class WireWriter {
  private buf = new Uint8Array(0);
  /** `buf` as a Buffer, to encode strings straight into it. */
  private text = Buffer.alloc(0);
  private start = 0;
  private pos = 0;
  private chunks: Uint8Array[] = [];

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    this.buf = new Uint8Array(Math.max(n, this.buf.length === 0 ? 1024 : CHUNK));
    this.text = Buffer.from(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    this.start = 0;
    this.pos = 0;
  }

  private flush(): void {
    if (this.pos === this.start) return;
    this.chunks.push(this.buf.subarray(this.start, this.pos));
    this.start = this.pos;
  }

  u64(n: number | bigint): this {
    this.room(8);
    if (typeof n === 'bigint') {
      if (n < 0n || n >= 1n << 64n) throw new RangeError(`WireWriter.u64: ${n} is out of range`);
      new DataView(this.buf.buffer, this.buf.byteOffset).setBigUint64(this.pos, n, true);
    } else {
      if (!Number.isSafeInteger(n) || n < 0)
        throw new RangeError(`WireWriter.u64: ${n} is not a non-negative safe integer`);
      putU64(this.buf, this.pos, n);
    }
    this.pos += 8;
    return this;
  }

  /** A signed value (e.g. time_t) as its 64-bit two's complement. */
  i64(n: number | bigint): this {
    return this.u64(BigInt.asUintN(64, BigInt(n)));
  }

  bool(b: boolean): this {
    return this.u64(b ? 1 : 0);
  }

  /** A byte string: u64 length, the bytes, zero padding to a multiple of 8. */
  bytes(b: Uint8Array): this {
    this.u64(b.length);
    this.raw(b);
    const pad = padded(b.length) - b.length;
    this.room(pad);
    this.buf.fill(0, this.pos, this.pos + pad);
    this.pos += pad;
    return this;
  }

  /** A string as UTF-8 bytes (short ones encoded in place, without an intermediate copy). */
  string(s: string): this {
    const most = s.length * 3;
    if (most >= CHUNK) return this.bytes(enc.encode(s));
    this.room(8 + most + 7);
    const len = this.text.write(s, this.pos + 8);
    putU64(this.buf, this.pos, len);
    this.pos += 8 + len;
    const end = this.pos + ((8 - (len % 8)) % 8);
    this.buf.fill(0, this.pos, end);
    this.pos = end;
    return this;
  }

  /** A list: count, then each string in the given order. */
  strings(list: Iterable<string>): this {
    const items = [...list];
    this.u64(items.length);
    for (const s of items) this.string(s);
    return this;
  }

  /** A set, as C++ std::set writes it: distinct strings in byte-wise order. */
  stringSet(set: Iterable<string>): this {
    if (Array.isArray(set) && set.length < 2) {
      // Nothing to sort or merge (the common case of path infos' references and signatures).
      this.u64(set.length);
      if (set.length === 1) this.string(set[0]!);
      return this;
    }
    const items = [...new Set(set)].map((s) => enc.encode(s)).sort(compareBytes);
    this.u64(items.length);
    for (const b of items) this.bytes(b);
    return this;
  }

  /** A map<string,string>: count, then key/value pairs in byte-wise key order. */
  stringMap(map: Map<string, string> | Record<string, string>): this {
    const entries = (map instanceof Map ? [...map] : Object.entries(map)).map(
      ([k, v]) => [enc.encode(k), v] as const,
    );
    entries.sort((a, b) => compareBytes(a[0], b[0]));
    this.u64(entries.length);
    for (const [k, v] of entries) this.bytes(k).string(v);
    return this;
  }

  /** Unframed bytes (e.g. a NAR); large ones are kept as their own chunk without copying. */
  raw(b: Uint8Array): this {
    if (b.length >= CHUNK) {
      this.flush();
      this.chunks.push(b);
      return this;
    }
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** An Error record as written inside STDERR_ERROR (worker protocol >= 1.26). */
  error(e: WireErrorInfo): this {
    this.string('Error').u64(e.level).string('Error').string(e.message).u64(0).u64(e.traces.length);
    for (const t of e.traces) this.u64(0).string(t);
    return this;
  }

  /** Bytes written since the last take, as chunks; the writer is then empty. */
  takeChunks(): Uint8Array[] {
    this.flush();
    const c = this.chunks;
    this.chunks = [];
    return c;
  }

  toBytes(): Uint8Array {
    const chunks = this.takeChunks();
    if (chunks.length === 1) return chunks[0]!;
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/**
 * Wraps a byte stream as Nix's framed stream: frames of `u64 len` + `len` bytes (no padding),
 * at most `frameSize` bytes each (Nix uses 32 KiB), then a zero-length frame.
 */
export async function* framed(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: { frameSize?: number } = {},
): AsyncGenerator<Uint8Array> {
  const frameSize = opts.frameSize ?? 32 * 1024;
  let pending = new Uint8Array(frameSize);
  let n = 0;
  const header = (len: number) => {
    const h = new Uint8Array(8);
    putU64(h, 0, len);
    return h;
  };
  for await (const chunk of source) {
    let at = 0;
    while (at < chunk.length) {
      if (n === 0 && chunk.length - at >= frameSize) {
        yield header(frameSize);
        yield chunk.subarray(at, at + frameSize);
        at += frameSize;
        continue;
      }
      const take = Math.min(frameSize - n, chunk.length - at);
      pending.set(chunk.subarray(at, at + take), n);
      n += take;
      at += take;
      if (n === frameSize) {
        yield header(n);
        yield pending;
        pending = new Uint8Array(frameSize);
        n = 0;
      }
    }
  }
  if (n > 0) {
    yield header(n);
    yield pending.subarray(0, n);
  }
  yield header(0);
}
