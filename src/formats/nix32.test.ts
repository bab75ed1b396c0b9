import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { FormatError } from './errors.js';
import { fromNix32, NIX32_ALPHABET, nix32Length, toNix32 } from './nix32.js';

/** Independent reference: bytes as a little-endian integer, printed in base 32, MSD first. */
function referenceNix32(bytes: Uint8Array): string {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  let s = '';
  for (let k = 0; k < nix32Length(bytes.length); k++) {
    s = NIX32_ALPHABET[Number(n & 31n)] + s;
    n >>= 5n;
  }
  return s;
}

test('nix32 tiny examples from store-formats.md §1.3', () => {
  assert.equal(toNix32(Uint8Array.of(0x01)), '01');
  assert.equal(toNix32(Uint8Array.of(0xff)), '7z');
  assert.equal(toNix32(Uint8Array.of(0x00, 0x01)), '0080');
  assert.equal(toNix32(Uint8Array.of(1, 2, 3, 4, 5)), '0l2060h1');
  assert.equal(toNix32(new Uint8Array(0)), '');
  assert.deepEqual(fromNix32('0l2060h1'), Uint8Array.of(1, 2, 3, 4, 5));
});

test('nix32 lengths', () => {
  assert.deepEqual([16, 20, 32, 64].map(nix32Length), [26, 32, 52, 103]);
});

test('nix32 of a known sha256 (greeting.txt NAR hash)', () => {
  const hex = 'ede9e56f440358fb368f46ba4bca079ac8f68404363461411bfef48d032eb492';
  const s = toNix32(Buffer.from(hex, 'hex'));
  assert.equal(s, '14ml5q1qvx7y3d0n2d1n0j2gdj4s0z54pfj6iwvgnn038ipybsgd');
  assert.equal(Buffer.from(fromNix32(s)).toString('hex'), hex);
});

test('nix32 matches the reference and round-trips for random inputs of all sizes', () => {
  for (let n = 0; n <= 70; n++) {
    for (let r = 0; r < 20; r++) {
      const b = new Uint8Array(randomBytes(n));
      const s = toNix32(b);
      assert.equal(s, referenceNix32(b));
      assert.deepEqual(fromNix32(s), b);
    }
  }
});

test('nix32 rejects bad characters, bad lengths and overflowing bits', () => {
  const bad = (s: string) =>
    assert.throws(
      () => fromNix32(s),
      (e: unknown) => e instanceof FormatError && e.code === 'BAD_NIX32',
    );
  bad('24ml5q1qvx7y3d0n2d1n0j2gdj4s0z54pfj6iwvgnn038ipybsgd'); // 2.8: "invalid base-32 hash"
  bad('e4ml5q1qvx7y3d0n2d1n0j2gdj4s0z54pfj6iwvgnn038ipybsgd');
  bad('14ml5q1qvx7y3d0n2d1n0j2gdj4s0z54pfj6iwvgnn038ipybsgD');
  bad('14ml5q1qvx7y3d0n2d1n0j2gdj4s0z54pfj6iwvgnn038ipybsg\u00e9');
  bad('0'); // 1 character encodes no byte count
  bad('8z'); // 1 byte, but 9 bits set
  assert.deepEqual(fromNix32('7z'), Uint8Array.of(0xff));
});

test('nix32 is fast enough for hot paths', () => {
  const inputs = Array.from({ length: 1000 }, () => new Uint8Array(randomBytes(32)));
  const t0 = performance.now();
  let total = 0;
  for (let r = 0; r < 100; r++) for (const b of inputs) total += fromNix32(toNix32(b)).length;
  const ms = performance.now() - t0;
  assert.equal(total, 100 * 1000 * 32);
  assert.ok(ms < 2000, `100k sha256 nix32 round trips took ${ms.toFixed(0)} ms`);
});
