import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FormatError } from './errors.js';
import {
  compressHash,
  type Hash,
  HashSink,
  hashBytes,
  parseHash,
  parseHashUnprefixed,
  printHash,
  toBase16,
} from './hash.js';
import { readVectorText } from './test-vectors.js';

const badHash = (e: unknown) => e instanceof FormatError && e.code === 'BAD_HASH';

test('hash vectors: sha256.json and sha512.json (which holds sha256 too) are SRI of sha256("asdf")', () => {
  const expected = hashBytes('sha256', 'asdf');
  for (const f of ['hash/sha256.json', 'hash/sha512.json']) {
    const sri = JSON.parse(readVectorText(f)) as string;
    const h = parseHash(sri);
    assert.equal(h.algo, 'sha256');
    assert.deepEqual(h.digest, expected.digest);
    assert.equal(printHash(h, 'sri'), sri);
  }
  // blake3 is master-only (experimental): not a 2.8 algorithm.
  assert.throws(() => parseHash(JSON.parse(readVectorText('hash/blake3.json'))), badHash);
});

test('all encodings round-trip for every algorithm', () => {
  for (const algo of ['md5', 'sha1', 'sha256', 'sha512'] as const) {
    const h = hashBytes(algo, `hello ${algo}`);
    for (const enc of ['base16', 'nix32', 'base64'] as const) {
      assert.deepEqual(parseHash(printHash(h, enc, { prefix: true })), h);
      assert.deepEqual(parseHash(printHash(h, enc), { algo }), h);
      assert.deepEqual(parseHashUnprefixed(printHash(h, enc), algo), h);
    }
    assert.deepEqual(parseHash(printHash(h, 'sri')), h);
    assert.ok(printHash(h, 'sri', { prefix: false }).startsWith(`${algo}-`));
  }
});

test('known values from store-formats.md', () => {
  const h = hashBytes('sha256', 'Hello, Nix!\n');
  assert.equal(printHash(h, 'base16'), 'c9ecc8a2369eb18e2b867ab572566edbcfee5abafa98345e868a4e515397f4d8');
  assert.equal(
    printHash(h, 'nix32', { prefix: true }),
    'sha256:1n7ljx9m2klahrg3967sp9dfxkyvdrb75dbshqmqxccy6siciv69',
  );
  assert.equal(
    printHash(hashBytes('sha1', 'Hello, Nix!\n'), 'nix32', { prefix: true }),
    'sha1:9djha9dv3ikxh81sw29z0a1wdakcif3i',
  );
  // upper-case base16 is accepted (2.8 parser)
  const up = parseHash('sha256:EDE9E56F440358FB368F46BA4BCA079AC8F68404363461411BFEF48D032EB492');
  assert.equal(printHash(up, 'nix32'), '14ml5q1qvx7y3d0n2d1n0j2gdj4s0z54pfj6iwvgnn038ipybsgd');
});

test('base64 decoding is as lenient as Nix: no padding needed, stops at "="', () => {
  const h = hashBytes('sha256', 'asdf');
  assert.deepEqual(parseHash('sha256-8OTC92xYkW7CWPJGhRvqCR0U1CR6L8PhhpRGGxgW4Ts'), h);
  assert.deepEqual(parseHash('sha256-8OTC92xYkW7CWPJGhRvqCR0U1CR6L8PhhpRGGxgW4Ts=garbage'), h);
});

test('compressHash folds as in §1.4', () => {
  const d = Buffer.from('9764885e3c6f65eb6c9fa824e597114162b3b187406dd86c31c58aa7dcc98254', 'hex');
  assert.equal(toBase16(compressHash(d, 20)), 'd70950320daaef4cb0562a70e597114162b3b187');
  assert.equal(toBase16(compressHash(Uint8Array.of(1, 2, 3), 2)), '0202');
});

test('HashSink equals one-shot hashing and counts bytes', () => {
  const s = new HashSink('sha512');
  s.update('abc');
  s.update(new Uint8Array([100, 101]));
  s.update('é');
  assert.equal(s.bytesSeen, 7);
  assert.deepEqual(s.finish(), hashBytes('sha512', 'abcdeé'));
});

test('malformed hashes are FormatError BAD_HASH worded as Nix 2.8', () => {
  const cases: [string, RegExp, { algo?: Hash['algo'] }?][] = [
    ['sha256:xyz', /^hash 'xyz' has wrong length for hash type 'sha256'$/],
    ['sha257:14ml5q1qvx7y3d0n2d1n0j2gdj4s0z54pfj6iwvgnn038ipybsgd', /^unknown hash algorithm 'sha257'$/],
    [
      '14ml5q1qvx7y3d0n2d1n0j2gdj4s0z54pfj6iwvgnn038ipybsgd',
      /^hash '14ml5q1qvx7y3d0n2d1n0j2gdj4s0z54pfj6iwvgnn038ipybsgd' does not include a type, nor is the type otherwise known from context$/,
    ],
    ['sha256:24ml5q1qvx7y3d0n2d1n0j2gdj4s0z54pfj6iwvgnn038ipybsgd', /^invalid base-32 hash '24ml5q1q/],
    [
      'sha256:ede9e56f440358fb368f46ba4bca079ac8f68404363461411bfef48d032eb49g',
      /^invalid base-16 hash 'ede9e56f/,
    ],
    ['sha256-8OTC92xYkW7CWPJGhRvqCR0U1CR6L8PhhpRGGxgW', /^invalid SRI hash '8OTC92xY/],
    ['sha256-8OTC92xYkW7CWPJGhRvqCR0U1CR6L8PhhpRG.xgW4Ts=', /^invalid character in Base64 string: ''$/],
    ['sha1-8OTC92xYkW7CWPJGhRvqCR0U1CR6L8PhhpRGGxgW4Ts=', /^invalid SRI hash '8OTC92xY/],
    [
      'sha256:14ml5q1qvx7y3d0n2d1n0j2gdj4s0z54pfj6iwvgnn038ipybsgd',
      /^hash 'sha256:14ml5q1q\w+' should have type 'sha1'$/,
      { algo: 'sha1' },
    ],
    // 2.8 formats the refused character with '%c', which prints nothing.
    ['sha256:!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!', /^invalid character in Base64 string: ''$/],
  ];
  for (const [text, message, opts] of cases) {
    assert.throws(
      () => parseHash(text, opts),
      (e: unknown) => badHash(e) && message.test((e as Error).message),
      text,
    );
  }
});
