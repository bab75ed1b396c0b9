import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufferPool } from './buffer-pool.js';

test('a given-back buffer is handed out again; slices, foreign sizes and extras are not kept', () => {
  const pool = new BufferPool(1024, 2);
  const a = pool.take();
  assert.equal(a.length, 1024);
  pool.give(a);
  assert.equal(pool.free, 1);
  assert.equal(pool.take(), a);
  pool.give(a.subarray(0, 512));
  pool.give(Buffer.allocUnsafeSlow(2048).subarray(0, 1024));
  pool.give(Buffer.alloc(100));
  assert.equal(pool.free, 0);
  pool.give(pool.take());
  pool.give(Buffer.allocUnsafeSlow(1024));
  pool.give(Buffer.allocUnsafeSlow(1024));
  assert.equal(pool.free, 2);
});
