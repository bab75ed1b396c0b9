import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionPool } from './pool.js';

test('reuses connections and never opens more than max', async () => {
  let n = 0;
  const closed: number[] = [];
  const pool = new ConnectionPool<number>({
    max: 2,
    open: async () => ++n,
    close: (c) => void closed.push(c),
  });
  const work = async () => {
    const c = await pool.acquire();
    await new Promise((r) => setTimeout(r, 2));
    pool.release(c);
  };
  await Promise.all(Array.from({ length: 20 }, work));
  assert.equal(pool.opened, 2);
  await pool.closeAll();
  assert.deepEqual(closed.sort(), [1, 2]);
});

test('a destroyed connection is replaced for the next waiter; open failures propagate', async () => {
  let n = 0;
  let fail = false;
  const pool = new ConnectionPool<number>({
    max: 1,
    open: async () => {
      if (fail) throw new Error('connection refused');
      return ++n;
    },
    close: () => {},
  });
  const a = await pool.acquire();
  const waiting = pool.acquire();
  await pool.destroy(a);
  assert.equal(await waiting, 2);
  pool.release(2);
  const b = await pool.acquire();
  await pool.destroy(b);
  fail = true;
  await assert.rejects(pool.acquire(), /connection refused/);
});
