import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufferPool } from './buffer-pool.js';

test('a given-back buffer is handed out again; slices, foreign buffers and extras are not kept', () => {
  const pool = new BufferPool(1024, 2);
  const a = pool.take();
  assert.equal(a.length, 1024);
  pool.give(a);
  assert.equal(pool.free, 1);
  assert.equal(pool.take(), a);
  pool.give(a.subarray(0, 512));
  pool.give(Buffer.allocUnsafeSlow(2048).subarray(0, 1024));
  pool.give(Buffer.alloc(100));
  // Of this pool's size, but not from it (a protocol header, another pool's buffer).
  pool.give(Buffer.allocUnsafeSlow(1024));
  pool.give(new BufferPool(1024).take());
  assert.equal(pool.free, 0);
  // A whole view of one of its buffers counts as that buffer.
  const b = pool.take();
  pool.give(b.subarray(0, 1024));
  assert.equal(pool.free, 1);
  assert.equal(pool.take().buffer, b.buffer);
  const [x, y, z] = [pool.take(), pool.take(), pool.take()];
  for (const buf of [x, y, z]) pool.give(buf);
  assert.equal(pool.free, 2, 'no more than `keep` are kept');
});
