import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryStore } from '../store/memory.js';
import { CopyError, computeClosure, referencesFirst } from './copy.js';

test('computeClosure: every path reachable by references, each with its info; an invalid one is named', async () => {
  const store = new MemoryStore();
  const base = await store.addTextToStore('base', 'base', []);
  // A wide level: 3,000 distinct leaves, each referring to base, below one root.
  const leaves: string[] = [];
  for (let i = 0; i < 3000; i++)
    leaves.push(await store.addTextToStore(`leaf-${i}`, `leaf ${i} ${base}`, [base]));
  const root = await store.addTextToStore('root', leaves.join(' '), leaves);
  const other = await store.addTextToStore('other', 'unrelated', []);
  const closure = await computeClosure(store, [root, root]);
  assert.equal(closure.size, 3002);
  assert.ok(closure.has(base) && closure.has(root) && !closure.has(other));
  assert.deepEqual(closure.get(leaves[7]!)!.references, [base]);
  // References come first in the order they are sent.
  const order = referencesFirst(closure);
  assert.equal(order[0], base);
  assert.equal(order[order.length - 1], root);
  const missing = '/nix/store/00000000000000000000000000000000-missing';
  await assert.rejects(
    computeClosure(store, [missing]),
    (e: unknown) => e instanceof CopyError && e.code === 'NOT_VALID' && e.message.includes(missing),
  );
});
