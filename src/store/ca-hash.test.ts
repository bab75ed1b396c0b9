import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashBytes, hashEquals } from '../formats/hash.js';
import { HashModuloSink } from './ca-hash.js';

describe('HashModuloSink', () => {
  const mod = 'g1w7hy3qg1w7hy3qg1w7hy3qg1w7hy3q';
  const data = Buffer.from(`start ${mod} middle ${mod}${mod} end`);
  const zero = '\0'.repeat(32);
  const expected = hashBytes(
    'sha256',
    Buffer.concat([Buffer.from(`start ${zero} middle ${zero}${zero} end`), Buffer.from('|6|46|78')]),
  );

  it('zeroes the modulus and appends its offsets, whatever the chunking', () => {
    for (const size of [1, 3, 31, 32, 33, 1000]) {
      const h = new HashModuloSink('sha256', mod);
      for (let i = 0; i < data.length; i += size) h.update(data.subarray(i, i + size));
      assert.ok(hashEquals(h.finish(), expected), `chunk size ${size}`);
    }
  });

  it('is a plain hash without a modulus', () => {
    const h = new HashModuloSink('sha256');
    h.update(data);
    assert.ok(hashEquals(h.finish(), hashBytes('sha256', data)));
  });
});
