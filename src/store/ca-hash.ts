// Content-address checks shared by the backends: the hash a CA path's `ca` field asserts, computed
// as Nix's HashModuloSink does for NAR hashes (occurrences of the path's own hash part are zeroed
// and their offsets appended as "|<offset>"), and the trust test (ca + references reproduce the
// path).
import {
  type ContentAddress,
  makeContentAddressedPath,
  parseContentAddress,
} from '../formats/content-address.js';
import { type Hash, type HashAlgo, HashSink } from '../formats/hash.js';
import { parseStorePathBase } from '../formats/store-path.js';

/** Hash of a byte stream with every occurrence of `modulus` zeroed and the offsets appended. */
export class HashModuloSink {
  readonly #hash: HashSink;
  readonly #mod: Buffer | undefined;
  #carry: Buffer = Buffer.alloc(0);
  /** Stream offset of the first byte of #carry. */
  #pos = 0;
  readonly #matches: number[] = [];

  constructor(algo: HashAlgo, modulus?: string) {
    this.#hash = new HashSink(algo);
    this.#mod = modulus ? Buffer.from(modulus) : undefined;
  }

  update(chunk: Uint8Array): void {
    const mod = this.#mod;
    if (!mod) {
      this.#hash.update(chunk);
      return;
    }
    const s = Buffer.concat([this.#carry, chunk]);
    for (let j = s.indexOf(mod); j >= 0; j = s.indexOf(mod, j + mod.length)) {
      this.#matches.push(this.#pos + j);
      s.fill(0, j, j + mod.length);
    }
    const keep = Math.min(mod.length - 1, s.length);
    this.#hash.update(s.subarray(0, s.length - keep));
    this.#carry = s.subarray(s.length - keep);
    this.#pos += s.length - keep;
  }

  finish(): Hash {
    if (this.#carry.length) this.#hash.update(this.#carry);
    for (const m of this.#matches) this.#hash.update(`|${m}`);
    return this.#hash.finish();
  }
}

/** The hash part of a store path (its base name's first 32 characters). */
export function hashPartOf(path: string): string {
  return parseStorePathBase(path.slice(path.lastIndexOf('/') + 1)).hashPart;
}

/**
 * Whether `ca`, with `references`, reproduces `path` (Nix's isContentAddressed). A reference to the
 * path itself counts as a self-reference.
 */
export function caReproducesPath(
  path: string,
  ca: ContentAddress,
  references: string[],
  storeDir: string,
): boolean {
  const name = path.slice(storeDir.length + 1 + 33);
  const others = references.filter((r) => r !== path);
  try {
    return (
      makeContentAddressedPath(name, ca, {
        references: others,
        selfReference: others.length !== references.length,
        storeDir,
      }) === path
    );
  } catch {
    return false;
  }
}

export function parseCa(ca: string): ContentAddress {
  return parseContentAddress(ca);
}
