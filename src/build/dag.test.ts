import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runDag } from './dag.js';

type R = { ok: boolean; note: string };

function harness(
  deps: Record<string, string[]>,
  fail: Set<string>,
  opts: { maxParallel: number; keepGoing: boolean },
) {
  const order: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const run = async (k: string): Promise<R> => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    for (const d of deps[k]!) assert.ok(order.includes(d), `${k} started before ${d} finished`);
    await sleep(5);
    inFlight--;
    order.push(k);
    return { ok: !fail.has(k), note: 'ran' };
  };
  const p = runDag(new Map(Object.entries(deps)), {
    ...opts,
    run,
    isSuccess: (r) => r.ok,
    dependencyFailed: (_k, failed) => ({ ok: false, note: `dep:${failed.join(',')}` }),
  });
  return { p, order, max: () => maxInFlight };
}

const diamond = { a: [], b: ['a'], c: ['a'], d: ['b', 'c'], e: [] };

test('dependencies first, parallel up to maxParallel', async () => {
  const h = harness(diamond, new Set(), { maxParallel: 2, keepGoing: false });
  const r = await h.p;
  assert.equal(r.size, 5);
  assert.equal(h.max(), 2);
  assert.equal(h.order.at(-1), 'd');
});

test('maxParallel 1 runs one at a time', async () => {
  const h = harness(diamond, new Set(), { maxParallel: 1, keepGoing: false });
  await h.p;
  assert.equal(h.max(), 1);
});

test('keepGoing: independent nodes still run, dependents are DependencyFailed', async () => {
  const h = harness(diamond, new Set(['b']), { maxParallel: 1, keepGoing: true });
  const r = await h.p;
  assert.deepEqual(r.get('d'), { ok: false, note: 'dep:b' });
  assert.equal(r.get('c')?.note, 'ran');
  assert.equal(r.get('e')?.note, 'ran');
});

test('without keepGoing, nothing new starts after a failure; running ones finish', async () => {
  const h = harness({ a: [], b: [], c: [], d: ['a'] }, new Set(['a']), { maxParallel: 2, keepGoing: false });
  const r = await h.p;
  assert.equal(r.get('a')?.ok, false);
  assert.equal(r.get('b')?.note, 'ran'); // was running alongside a
  assert.equal(r.has('c'), false);
  assert.deepEqual(r.get('d'), { ok: false, note: 'dep:a' });
});

test('an executor crash rejects after running work settles', async () => {
  const p = runDag(new Map([['x', []]]), {
    maxParallel: 1,
    keepGoing: false,
    run: async () => {
      throw new Error('boom');
    },
    isSuccess: () => true,
    dependencyFailed: () => 0,
  });
  await assert.rejects(p, /boom/);
});

test('a cycle is reported', async () => {
  const p = runDag(
    new Map([
      ['x', ['y']],
      ['y', ['x']],
    ]),
    {
      maxParallel: 1,
      keepGoing: false,
      run: async () => 1,
      isSuccess: () => true,
      dependencyFailed: () => 0,
    },
  );
  await assert.rejects(p, /cycle/);
});

test('ready nodes start in the given order; without keepGoing a failure fails its dependents at once', async () => {
  const started: string[] = [];
  const results = await runDag(
    new Map<string, string[]>([
      ['z-ok', []],
      ['a-bad', []],
      ['top', ['z-ok', 'a-bad']],
    ]),
    {
      maxParallel: 1,
      keepGoing: false,
      order: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
      run: async (k) => {
        started.push(k);
        return k !== 'a-bad';
      },
      isSuccess: (r) => r,
      dependencyFailed: () => false,
    },
  );
  assert.deepEqual(started, ['a-bad']);
  assert.equal(results.get('top'), false, 'top fails as soon as a-bad does');
  assert.equal(results.has('z-ok'), false, 'z-ok never started');
});
