import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bindings, permute, sortOrder, sortOrderFirsts } from './bindings.js';
import { evalPrint } from './test-util.js';

const of = (entries: [string, number][]) => Bindings.fromMap(new Map(entries));
const entries = (b: Bindings) => [...b.entries()];

test('`//` keeps every name once, in byte order, values of the right side winning', () => {
  // Pseudo-random sets of both sizes (the small right side and the merge paths).
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let round = 0; round < 200; round++) {
    const a = new Map<string, number>();
    const b = new Map<string, number>();
    for (let i = rand(30); i > 0; i--) a.set(`k${rand(40)}`, rand(1000));
    for (let i = rand(round % 2 ? 20 : 6); i > 0; i--) b.set(`k${rand(40)}`, 1000 + rand(1000));
    const want = new Map([...a, ...b]);
    const got = Bindings.update(of([...a]), of([...b]));
    assert.deepEqual(
      entries(got),
      [...want.keys()].sort().map((k) => [k, want.get(k)!]),
    );
  }
});

test('`//` that adds no names shares the names array (so folds over `//` copy only values)', () => {
  const a = of([
    ['x', 1],
    ['y', 2],
    ['z', 3],
  ]);
  const small = Bindings.update(a, of([['y', 20]]));
  assert.equal(small.names, a.names);
  assert.deepEqual(entries(small), [
    ['x', 1],
    ['y', 20],
    ['z', 3],
  ]);
  assert.deepEqual(entries(a), [
    ['x', 1],
    ['y', 2],
    ['z', 3],
  ]);
  const bigA = of(Array.from({ length: 20 }, (_, i) => [`n${i}`, i] as [string, number]));
  const bigB = of(Array.from({ length: 10 }, (_, i) => [`n${i * 2}`, -i] as [string, number]));
  assert.equal(Bindings.update(bigA, bigB).names, bigA.names);
  assert.notEqual(Bindings.update(bigA, of([['new', 1]])).names, bigA.names);
});

test('positions survive long chains of `//` (flattened every 32 updates) as Nix 2.8 reports them', () => {
  // Lines checked against nix-instantiate 2.8: [ 3 2 4 4 ].
  const expr = `let
  base = { a = 1; b = 2; };
  upd = i: if i == 50 then { a = i; } else
    { "k\${toString i}" = i; };
  r = builtins.foldl' (acc: i: acc // upd i) base (builtins.genList (i: i) 100);
in map (n: (builtins.unsafeGetAttrPos n r).line) [ "a" "b" "k99" "k3" ]`;
  assert.equal(evalPrint(expr), '[ 3 2 4 4 ]');
  assert.equal(evalPrint(`(builtins.unsafeGetAttrPos "b" ({ a = 1; } // { b = 2; })).column`), '49');
});

test('sortOrder gives the byte-order permutation, or nothing for names already in order', () => {
  assert.equal(sortOrder([]), undefined);
  assert.equal(sortOrder(['a', 'b', 'c']), undefined);
  const names = ['z', 'a', 'm', '\xc3\xa9', 'A'];
  const order = sortOrder(names);
  assert.deepEqual(order, [4, 1, 2, 0, 3]);
  assert.deepEqual(permute(names, order), ['A', 'a', 'm', 'z', '\xc3\xa9']);
  assert.deepEqual(permute([1, 2, 3, 4, 5], order), [5, 2, 3, 1, 4]);
  const same = ['x'];
  assert.equal(permute(same, undefined), same);
});

test('indexNear tries the hint first and finds the name elsewhere too', () => {
  const b = new Bindings(['a', 'b', 'c'], [1, 2, 3]);
  assert.equal(b.indexNear('b', 1), 1);
  assert.equal(b.indexNear('b', 0), 1);
  assert.equal(b.indexNear('c', 7), 2);
  assert.equal(b.indexNear('d', 2), -1);
});

test('sortOrderFirsts: the first occurrence of each name, in byte order', () => {
  assert.equal(sortOrderFirsts(['a', 'b', 'c']), undefined);
  const names = ['b', 'a', 'b', 'c', 'a'];
  assert.deepEqual(sortOrderFirsts(names), [1, 0, 3]);
  // Past the insertion sort's size, and with runs of one name.
  const many = Array.from({ length: 60 }, (_, i) => `k${(i * 7) % 20}`);
  const order = sortOrderFirsts(many)!;
  assert.deepEqual(
    order.map((i) => many[i]),
    [...new Set(many)].sort(),
  );
  for (const i of order) assert.equal(many.indexOf(many[i]!), i);
});
