// Nix wire primitives for the serve protocol codec (u64 LE, padded strings, string lists), over
// the formats ByteReader. Kept minimal; the protocol code only needs these few shapes.
import { type ByteInput, ByteReader } from '../formats/byte-reader.js';
import { encodeStr, putU64 } from '../formats/nar-tokens.js';

const dec = new TextDecoder('utf-8', { fatal: false });
/** Longest string accepted from a peer (a derivation env value can be large; a path is < 4 KiB). */
export const MAX_STRING = 64 << 20;
/** Most elements accepted in one list/set. */
export const MAX_LIST = 1 << 24;

export class WireIn {
  readonly r: ByteReader;

  constructor(source: ByteInput | ByteReader) {
    this.r = source instanceof ByteReader ? source : new ByteReader(source, 'BAD_WIRE', 'wire data');
  }

  get position(): number {
    return this.r.position;
  }

  u64(): Promise<number> {
    return this.r.u64();
  }

  async bool(): Promise<boolean> {
    return (await this.r.u64big()) !== 0n;
  }

  async bytes(max = MAX_STRING): Promise<Uint8Array> {
    const at = this.r.position;
    const len = await this.r.u64();
    if (len > max) throw this.r.fail(`string of ${len} bytes is longer than the limit of ${max}`, at);
    const b = len === 0 ? new Uint8Array(0) : (await this.r.readExact(len)).slice();
    await this.r.padding(len);
    return b;
  }

  async string(max = MAX_STRING): Promise<string> {
    return dec.decode(await this.bytes(max));
  }

  async strings(): Promise<string[]> {
    const at = this.r.position;
    const n = await this.r.u64();
    if (n > MAX_LIST) throw this.r.fail(`list of ${n} elements is longer than the limit of ${MAX_LIST}`, at);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await this.string());
    return out;
  }

  async stringMap(): Promise<Map<string, string>> {
    const at = this.r.position;
    const n = await this.r.u64();
    if (n > MAX_LIST) throw this.r.fail(`map of ${n} entries is longer than the limit of ${MAX_LIST}`, at);
    const out = new Map<string, string>();
    for (let i = 0; i < n; i++) {
      const k = await this.string();
      out.set(k, await this.string());
    }
    return out;
  }
}

/** Accumulates encoded fields; `take()` hands them over for one write. */
export class WireOut {
  private parts: Uint8Array[] = [];

  u64(n: number | bigint): this {
    const b = new Uint8Array(8);
    if (typeof n === 'bigint') new DataView(b.buffer).setBigUint64(0, n, true);
    else putU64(b, 0, n);
    this.parts.push(b);
    return this;
  }

  bool(b: boolean): this {
    return this.u64(b ? 1 : 0);
  }

  string(s: string | Uint8Array): this {
    this.parts.push(encodeStr(s));
    return this;
  }

  strings(list: Iterable<string>): this {
    const xs = [...list];
    this.u64(xs.length);
    for (const x of xs) this.string(x);
    return this;
  }

  stringMap(m: Iterable<[string, string]>): this {
    const xs = [...m];
    this.u64(xs.length);
    for (const [k, v] of xs) this.string(k).string(v);
    return this;
  }

  raw(b: Uint8Array): this {
    this.parts.push(b);
    return this;
  }

  take(): Uint8Array[] {
    const p = this.parts;
    this.parts = [];
    return p;
  }

  toBytes(): Uint8Array {
    const p = this.take();
    const out = new Uint8Array(p.reduce((n, x) => n + x.length, 0));
    let at = 0;
    for (const x of p) {
      out.set(x, at);
      at += x.length;
    }
    return out;
  }
}
