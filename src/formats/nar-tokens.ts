/** Pre-encoded NAR tokens and byte helpers shared by the NAR dumper and parser. */

const enc = new TextEncoder();

/** Byte-wise comparison (C++ std::string order); negative, zero or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Length of `len` bytes padded to a multiple of 8. */
export function padded(len: number): number {
  return len + ((8 - (len % 8)) % 8);
}

/** Writes u64 little-endian `n` (< 2^53) at `at`. */
export function putU64(buf: Uint8Array, at: number, n: number): void {
  const lo = n >>> 0;
  const hi = Math.floor(n / 2 ** 32);
  buf[at] = lo & 0xff;
  buf[at + 1] = (lo >>> 8) & 0xff;
  buf[at + 2] = (lo >>> 16) & 0xff;
  buf[at + 3] = lo >>> 24;
  buf[at + 4] = hi & 0xff;
  buf[at + 5] = (hi >>> 8) & 0xff;
  buf[at + 6] = (hi >>> 16) & 0xff;
  buf[at + 7] = hi >>> 24;
}

/** The wire form of one string: u64 length, bytes, zero padding. */
export function encodeStr(s: Uint8Array | string): Uint8Array {
  const b = typeof s === 'string' ? enc.encode(s) : s;
  const out = new Uint8Array(8 + padded(b.length));
  putU64(out, 0, b.length);
  out.set(b, 8);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Raw tag bytes (unframed), for comparison while parsing. */
export const TAG = {
  open: enc.encode('('),
  close: enc.encode(')'),
  type: enc.encode('type'),
  regular: enc.encode('regular'),
  executable: enc.encode('executable'),
  contents: enc.encode('contents'),
  directory: enc.encode('directory'),
  entry: enc.encode('entry'),
  name: enc.encode('name'),
  node: enc.encode('node'),
  symlink: enc.encode('symlink'),
  target: enc.encode('target'),
};

export const NAR_MAGIC = enc.encode('nix-archive-1');

const s = encodeStr;

/** Framed token sequences the dumper emits verbatim. */
export const FRAMED = {
  magic: s(NAR_MAGIC),
  /** `(` `type` `regular` `contents` — the size follows. */
  regular: concat(s('('), s('type'), s('regular'), s('contents')),
  /** `(` `type` `regular` `executable` `` `contents` — the size follows. */
  executable: concat(s('('), s('type'), s('regular'), s('executable'), s(''), s('contents')),
  /** `(` `type` `symlink` `target` — the target string follows. */
  symlink: concat(s('('), s('type'), s('symlink'), s('target')),
  directory: concat(s('('), s('type'), s('directory')),
  /** `entry` `(` `name` — the name string follows. */
  entry: concat(s('entry'), s('('), s('name')),
  node: s('node'),
  close: s(')'),
};
