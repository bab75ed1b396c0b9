import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { compareUtf8, firstInvalidUtf8, sortedUniqueUtf8 } from './byte-order.js';

const sample = [
  '',
  'a',
  'B',
  'é',
  '\uFF21',
  '\uE000',
  '\uD7FF',
  '\u{1F600}',
  '\u{10FFFF}',
  'a\u{1F600}',
  'aé',
  '~',
];

test('compareUtf8 agrees with comparing the UTF-8 bytes', () => {
  for (const a of sample) {
    for (const b of sample) {
      const want = Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
      assert.equal(Math.sign(compareUtf8(a, b)), want, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
  }
  assert.deepEqual(sortedUniqueUtf8(['b', 'a', 'b', '\u{1F600}', '\uFF21']), [
    'a',
    'b',
    '\uFF21',
    '\u{1F600}',
  ]);
});

test('firstInvalidUtf8 agrees with a fatal TextDecoder', () => {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  const valid = (b: Uint8Array) => {
    try {
      fatal.decode(b);
      return true;
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 20_000; i++) {
    const b = new Uint8Array(randomBytes(1 + (i % 7)));
    const at = firstInvalidUtf8(b);
    assert.equal(at === -1, valid(b), Buffer.from(b).toString('hex'));
    if (at >= 0) assert.ok(valid(b.subarray(0, at)), Buffer.from(b).toString('hex'));
  }
  assert.equal(firstInvalidUtf8(Buffer.from('é😀\u{10FFFF}')), -1);
  assert.equal(firstInvalidUtf8(Uint8Array.of(0x61, 0xc0, 0x80)), 1);
  assert.equal(firstInvalidUtf8(Uint8Array.of(0x61, 0xe2, 0x82)), 1);
});
