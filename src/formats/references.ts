/**
 * Reference scanning as Nix does it: look for the 32-character nix32 hash parts of
 * candidate store paths anywhere in a byte stream (no '/nix/store/' prefix needed).
 */

const HASH_LEN = 32;
const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';

/** digit[byte] = 1 + the value of a nix32 character, 0 for any other byte. */
const digit = new Uint8Array(256);
for (let i = 0; i < NIX32.length; i++) digit[NIX32.charCodeAt(i)] = i + 1;

const latin1 = new TextDecoder('latin1');

/**
 * Finds which of the given hash parts occur in the bytes fed to `update`, including
 * occurrences split across chunk boundaries. Scans like Nix's RefScanSink: a window of 32
 * bytes is checked from its end, and on a non-nix32 byte the window jumps past it, so
 * binary data is skipped quickly; bytes already known to be nix32 are not checked again,
 * and full windows are filtered by their first three characters before the set lookup.
 */
export class RefScanner {
  private readonly pending = new Set<string>();
  private readonly seen = new Set<string>();
  /** Flags for the 15-bit keys of the candidates' first three characters. */
  private readonly prefixes = new Uint8Array(1 << 15);
  /** The last up to 31 bytes of the previous chunk. */
  private tail = new Uint8Array(0);

  constructor(hashParts: Iterable<string>) {
    for (const h of hashParts) {
      if (h.length !== HASH_LEN || [...h].some((c) => !NIX32.includes(c))) {
        throw new Error(`RefScanner: '${h}' is not a 32-character nix32 hash part`);
      }
      this.pending.add(h);
      this.prefixes[prefixKey(h.charCodeAt(0), h.charCodeAt(1), h.charCodeAt(2))] = 1;
    }
  }

  update(chunk: Uint8Array): void {
    if (this.pending.size === 0 || chunk.length === 0) return;
    if (this.tail.length) {
      // Windows that start in the tail and end in this chunk.
      const head = chunk.subarray(0, HASH_LEN - 1);
      const joined = new Uint8Array(this.tail.length + head.length);
      joined.set(this.tail);
      joined.set(head, this.tail.length);
      this.scan(joined);
    }
    this.scan(chunk);
    const keep = HASH_LEN - 1;
    if (chunk.length >= keep) {
      this.tail = chunk.slice(chunk.length - keep);
    } else {
      const t = new Uint8Array(Math.min(keep, this.tail.length + chunk.length));
      const fromTail = t.length - chunk.length;
      t.set(this.tail.subarray(this.tail.length - fromTail));
      t.set(chunk, fromTail);
      this.tail = t;
    }
  }

  /** The hash parts seen so far. */
  found(): Set<string> {
    return new Set(this.seen);
  }

  private scan(s: Uint8Array): void {
    const n = s.length;
    const prefixes = this.prefixes;
    let i = 0;
    let good = 0; // s[i..good) are known to be nix32 characters
    while (i + HASH_LEN <= n) {
      const end = i + HASH_LEN;
      let j = end - 1;
      while (j >= good && digit[s[j]!]) j--;
      if (j >= good) {
        i = j + 1;
        good = end;
        continue;
      }
      good = end;
      if (prefixes[prefixKey(s[i]!, s[i + 1]!, s[i + 2]!)]) {
        const ref = latin1.decode(s.subarray(i, end));
        if (this.pending.delete(ref)) {
          this.seen.add(ref);
          if (this.pending.size === 0) return;
        }
      }
      i++;
    }
  }
}

function prefixKey(a: number, b: number, c: number): number {
  return ((digit[a]! - 1) << 10) | ((digit[b]! - 1) << 5) | (digit[c]! - 1);
}

/** Scans a whole byte stream (e.g. a NAR) and returns the hash parts found. */
export async function scanForReferences(
  input: AsyncIterable<Uint8Array>,
  hashParts: Iterable<string>,
): Promise<Set<string>> {
  const scanner = new RefScanner(hashParts);
  for await (const chunk of input) scanner.update(chunk);
  return scanner.found();
}
