import type { Hash as NodeHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { FormatError } from './errors.js';
import { fromNix32, nix32Length, toNix32 } from './nix32.js';

export type HashAlgo = 'md5' | 'sha1' | 'sha256' | 'sha512';

export interface Hash {
  algo: HashAlgo;
  digest: Uint8Array;
}

export type HashEncoding = 'base16' | 'nix32' | 'base64' | 'sri';

export const HASH_SIZE: Readonly<Record<HashAlgo, number>> = { md5: 16, sha1: 20, sha256: 32, sha512: 64 };

export function isHashAlgo(s: string): s is HashAlgo {
  return s === 'md5' || s === 'sha1' || s === 'sha256' || s === 'sha512';
}

/** Parses an algorithm name as Nix does ("sha256"); anything else is FormatError('BAD_HASH'). */
export function parseHashAlgo(s: string): HashAlgo {
  if (!isHashAlgo(s)) throw new FormatError('BAD_HASH', `unknown hash algorithm '${s}'`);
  return s;
}

type OneShot = (algo: string, data: Uint8Array | string, enc: 'hex') => string;
type Crypto = typeof import('node:crypto') & { hash?: OneShot };

// node:crypto is loaded when something is first hashed: loading it (with all its parts) takes
// several milliseconds of every start, and many runs (evaluations without derivations) hash nothing.
let crypto: Crypto | undefined;
function nodeCrypto(): Crypto {
  crypto ??= createRequire(import.meta.url)('node:crypto') as Crypto;
  return crypto;
}

function createHash(algo: HashAlgo): NodeHash {
  return nodeCrypto().createHash(algo);
}

// One-shot hashing (Node >= 20.12) skips the Hash object. Its hex output decoded here is about
// twice as fast as its Buffer output (no Buffer allocation); strings are hashed as UTF-8 either way.
// `null`: this Node has none.
let oneShotFn: OneShot | null | undefined;
function oneShot(): OneShot | null {
  if (oneShotFn === undefined) oneShotFn = nodeCrypto().hash ?? null;
  return oneShotFn;
}

const HEX_VALUE = new Uint8Array(128);
for (let i = 0; i < 16; i++) HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;

export function hashBytes(algo: HashAlgo, data: Uint8Array | string): Hash {
  const one = oneShot();
  if (one === null) return { algo, digest: new Uint8Array(createHash(algo).update(data).digest()) };
  const hex = one(algo, data, 'hex');
  const digest = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < digest.length; i++) {
    digest[i] = (HEX_VALUE[hex.charCodeAt(2 * i)]! << 4) | HEX_VALUE[hex.charCodeAt(2 * i + 1)]!;
  }
  return { algo, digest };
}

/** The digest as lowercase hex, without the bytes in between (store paths hash hex fingerprints). */
export function hashBase16(algo: HashAlgo, data: Uint8Array | string): string {
  const one = oneShot();
  if (one === null) return createHash(algo).update(data).digest('hex');
  return one(algo, data, 'hex');
}

/** Incremental hashing that also counts the bytes it has seen. */
export class HashSink {
  readonly algo: HashAlgo;
  bytesSeen = 0;
  #h: NodeHash;

  constructor(algo: HashAlgo) {
    this.algo = algo;
    this.#h = createHash(algo);
  }

  update(chunk: Uint8Array | string): void {
    this.bytesSeen += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    this.#h.update(chunk);
  }

  finish(): Hash {
    return { algo: this.algo, digest: new Uint8Array(this.#h.digest()) };
  }
}

export function hashEquals(a: Hash, b: Hash): boolean {
  return a.algo === b.algo && Buffer.from(a.digest).equals(b.digest);
}

/** XOR-folds a digest into `size` bytes (Nix's compressHash; store paths use 20). */
export function compressHash(digest: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < digest.length; i++) out[i % size]! ^= digest[i]!;
  return out;
}

export function toBase16(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');
}

const B64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_DIGIT[B64_ALPHABET.charCodeAt(i)] = i;

/**
 * Standard base64 decoded as Nix does: stops at the first '=', skips '\n', leftover bits are
 * dropped (so missing padding is fine); any other character is FormatError(code).
 */
export function fromBase64(s: string, code = 'BAD_HASH', what = `base-64 string '${s}'`): Uint8Array {
  const out = new Uint8Array(Math.floor((s.length * 3) / 4) + 1);
  let n = 0;
  let d = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 61) break;
    if (c === 10) continue;
    const digit = c < 128 ? B64_DIGIT[c]! : -1;
    if (digit < 0) throw new FormatError(code, `cannot decode ${what}: invalid base-64 character '${s[i]}'`);
    d = ((d << 6) | digit) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (d >> bits) & 0xff;
    }
  }
  return out.slice(0, n);
}

// Parse errors are worded as Nix 2.8's (they show the digest without its algorithm prefix).
function fromBase16(s: string): Uint8Array {
  if (!/^[0-9a-fA-F]*$/.test(s)) throw new FormatError('BAD_HASH', `invalid base-16 hash '${s}'`);
  return new Uint8Array(Buffer.from(s, 'hex'));
}

/** Decodes a digest whose encoding is inferred from its length (base16, nix32, base64), or SRI base64. */
function decodeDigest(rest: string, algo: HashAlgo, sri: boolean): Uint8Array {
  const size = HASH_SIZE[algo];
  if (!sri && rest.length === size * 2) return fromBase16(rest);
  if (!sri && rest.length === nix32Length(size)) {
    try {
      return fromNix32(rest);
    } catch {
      throw new FormatError('BAD_HASH', `invalid base-32 hash '${rest}'`);
    }
  }
  if (sri || rest.length === Math.ceil(size / 3) * 4) {
    let d: Uint8Array;
    try {
      d = fromBase64(rest);
    } catch {
      // Nix 2.8's words, where its format of the refused character ('%c') always prints nothing.
      throw new FormatError('BAD_HASH', "invalid character in Base64 string: ''");
    }
    if (d.length !== size)
      throw new FormatError('BAD_HASH', `invalid ${sri ? 'SRI' : 'base-64'} hash '${rest}'`);
    return d;
  }
  throw new FormatError('BAD_HASH', `hash '${rest}' has wrong length for hash type '${algo}'`);
}

/**
 * Parses "<algo>:<base16|nix32|base64>", SRI "<algo>-<base64>", or a bare digest when
 * `opts.algo` is given. If both the string and `opts.algo` name an algorithm they must agree.
 */
export function parseHash(text: string, opts: { algo?: HashAlgo } = {}): Hash {
  let rest = text;
  let named: string | undefined;
  let sri = false;
  const colon = text.indexOf(':');
  if (colon >= 0) {
    named = text.slice(0, colon);
    rest = text.slice(colon + 1);
  } else {
    const dash = text.indexOf('-');
    if (dash >= 0) {
      named = text.slice(0, dash);
      rest = text.slice(dash + 1);
      sri = true;
    }
  }
  if (named !== undefined && !isHashAlgo(named)) {
    throw new FormatError('BAD_HASH', `unknown hash algorithm '${named}'`);
  }
  if (named === undefined && opts.algo === undefined) {
    throw new FormatError(
      'BAD_HASH',
      `hash '${rest}' does not include a type, nor is the type otherwise known from context`,
    );
  }
  if (named !== undefined && opts.algo !== undefined && named !== opts.algo) {
    throw new FormatError('BAD_HASH', `hash '${text}' should have type '${opts.algo}'`);
  }
  const algo = (named ?? opts.algo) as HashAlgo;
  return { algo, digest: decodeDigest(rest, algo, sri) };
}

/** Parses a digest without any prefix in the given algorithm (base16, nix32 or base64 by length). */
export function parseHashUnprefixed(text: string, algo: HashAlgo): Hash {
  return { algo, digest: decodeDigest(text, algo, false) };
}

export function printHash(h: Hash, enc: HashEncoding, opts: { prefix?: boolean } = {}): string {
  switch (enc) {
    case 'sri':
      return `${h.algo}-${toBase64(h.digest)}`;
    case 'base16':
      return (opts.prefix ? `${h.algo}:` : '') + toBase16(h.digest);
    case 'nix32':
      return (opts.prefix ? `${h.algo}:` : '') + toNix32(h.digest);
    case 'base64':
      return (opts.prefix ? `${h.algo}:` : '') + toBase64(h.digest);
  }
}
