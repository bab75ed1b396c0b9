// List builtins.

import { toCInt } from '../arith.js';
import { missingAttrFor } from '../attr-errors.js';
import { NixEvalError } from '../errors.js';
import {
  callFunction,
  eqElem,
  eqValues,
  forceAttrs,
  forceBool,
  forceFunction,
  forceInt,
  forceList,
  forceStringNoCtx,
  lessThan,
} from '../ops.js';
import type { Pos } from '../source.js';
import type { BuiltinDef, EvalState } from '../state.js';
import { Attrs, determinePos, force, NixFloat, PrimOp, type Thunk, type Value } from '../value.js';
import { appThunk, call2, mkAttrs } from './util.js';

export function registerLists(_state: EvalState, defs: BuiltinDef[]): void {
  const def = (name: string, arity: number, fn: BuiltinDef['fn'], global = false) =>
    defs.push({ name, arity, fn, global });

  def(
    'map',
    2,
    ([f, l], pos) => {
      const list = forceList(l!, pos);
      const out = new Array(list.length);
      for (let i = 0; i < list.length; i++) out[i] = appThunk(f!, list[i]!, pos);
      return out;
    },
    true,
  );
  // filter, foldl' and sort force their function before the list, as Nix 2.8 does (which error is
  // reported); map, genList and mapAttrs leave it to the elements.
  def('filter', 2, ([f, l], pos) => {
    const fn = forceFunction(f!, pos);
    const list = forceList(l!, pos);
    const out: (Value | Thunk)[] = [];
    for (const x of list) if (forceBool(callFunction(fn, x, pos), pos)) out.push(x);
    return out.length === list.length ? list : out;
  });
  def('length', 1, ([l], pos) => forceList(l!, pos).length);
  def('head', 1, ([l], pos) => {
    const list = forceList(l!, pos);
    if (list.length === 0) throw new NixEvalError('TYPE', 'list index 0 is out of bounds', pos);
    return force(list[0]!);
  });
  def('tail', 1, ([l], pos) => {
    const list = forceList(l!, pos);
    if (list.length === 0) throw new NixEvalError('TYPE', "'tail' called on an empty list", pos);
    return list.slice(1);
  });
  def('elemAt', 2, ([l, n], pos) => {
    // Nix 2.8 keeps the index in a C int: its low 32 bits, signed.
    const i = toCInt(forceInt(n!, pos));
    const list = forceList(l!, pos);
    if (i < 0 || i >= list.length) {
      throw new NixEvalError('TYPE', `list index ${i} is out of bounds`, pos);
    }
    return force(list[i]!);
  });
  def('elem', 2, ([x, l], pos) => {
    // Nix 2.8 compares the argument itself with each element: the same value is an element.
    for (const y of forceList(l!, pos)) if (eqElem(x!, y, pos)) return true;
    return false;
  });
  def('concatLists', 1, ([l], pos) => {
    const outer = forceList(l!, pos);
    const lists: (Value | Thunk)[][] = new Array(outer.length);
    let total = 0;
    let nonEmpty = 0;
    let last = 0;
    for (let i = 0; i < outer.length; i++) {
      const x = forceList(outer[i]!, pos);
      lists[i] = x;
      total += x.length;
      if (x.length > 0) {
        nonEmpty++;
        last = i;
      }
    }
    // The only non-empty list is the result itself, as in Nix 2.8 (it then prints «repeated»).
    if (nonEmpty === 1) return lists[last]!;
    const out: (Value | Thunk)[] = new Array(total);
    let k = 0;
    for (const x of lists) for (let j = 0; j < x.length; j++) out[k++] = x[j]!;
    return out;
  });
  def('concatMap', 2, ([f, l], pos) => {
    const fn = forceFunction(f!, pos);
    const out: (Value | Thunk)[] = [];
    for (const x of forceList(l!, pos)) {
      const r = callFunction(fn, x, pos);
      let ys: (Value | Thunk)[];
      try {
        ys = forceList(r, determinePos(r, determinePos(fn, pos)));
      } catch (e) {
        if (e instanceof NixEvalError && e.code === 'TYPE') e.addTrace(pos, "while invoking 'concatMap'");
        throw e;
      }
      for (const y of ys) out.push(y);
    }
    return out;
  });
  def("foldl'", 3, ([f, z, l], pos) => {
    const fn = forceFunction(f!, pos);
    const list = forceList(l!, pos);
    if (list.length === 0) return force(z!, pos);
    let acc: Value | Thunk = z!;
    for (let i = 0; i < list.length; i++) acc = force(call2(fn, acc, list[i]!, pos));
    return acc as Value;
  });
  def('all', 2, ([f, l], pos) => {
    const fn = forceFunction(f!, pos);
    for (const x of forceList(l!, pos)) if (!forceBool(callFunction(fn, x, pos), pos)) return false;
    return true;
  });
  def('any', 2, ([f, l], pos) => {
    const fn = forceFunction(f!, pos);
    for (const x of forceList(l!, pos)) if (forceBool(callFunction(fn, x, pos), pos)) return true;
    return false;
  });
  def('genList', 2, ([f, n], pos) => {
    const len = forceInt(n!, pos);
    if (len < 0) throw new NixEvalError('TYPE', `cannot create list of size ${len}`, pos);
    // Nix 2.8 fails to allocate such a list (from 2^32 elements; far beyond, its size overflows).
    if (len >= 2 ** 32) throw new NixEvalError('OUT_OF_MEMORY', 'out of memory');
    const out = new Array(Number(len));
    for (let i = 0; i < out.length; i++) out[i] = appThunk(f!, i, pos);
    return out;
  });
  def('sort', 2, ([f, l], pos) => {
    const fn = forceFunction(f!, pos);
    const list = forceList(l!, pos);
    // As Nix 2.8: every element is forced first, then std::stable_sort calls `fn b a` for `b < a`.
    const vals = list.map((x) => force(x));
    if (vals.length <= 1) return vals;
    if (fn instanceof PrimOp && fn.name === 'lessThan') {
      // A consistent order has one stable result, whatever the algorithm.
      if (vals.every((x) => typeof x === 'number')) return (vals as number[]).sort((a, b) => a - b);
      if (vals.every((x) => typeof x === 'string')) return (vals as string[]).sort();
      stdStableSort(vals, (a, b) => lessThan(a as Value, b as Value, pos));
      return vals;
    }
    stdStableSort(vals, (a, b) => forceBool(call2(fn, a, b, pos), pos));
    return vals;
  });
  def('partition', 2, ([f, l], pos) => {
    const fn = forceFunction(f!, pos);
    const right: (Value | Thunk)[] = [];
    const wrong: (Value | Thunk)[] = [];
    // Each element is evaluated before the predicate sees it, as in Nix 2.8.
    for (const x of forceList(l!, pos))
      (forceBool(callFunction(fn, force(x), pos), pos) ? right : wrong).push(x);
    return mkAttrs([
      ['right', right],
      ['wrong', wrong],
    ]);
  });
  def('groupBy', 2, ([f, l], pos) => {
    const fn = forceFunction(f!, pos);
    const m = new Map<string, (Value | Thunk)[]>();
    for (const x of forceList(l!, pos)) {
      const k = forceStringNoCtx(callFunction(fn, x, pos), pos);
      const g = m.get(k);
      if (g) g.push(x);
      else m.set(k, [x]);
    }
    return Attrs.from(m as Map<string, Value>);
  });
  def('genericClosure', 1, ([a], pos) => genericClosure(a!, pos));
}

/**
 * std::stable_sort as libstdc++ (GCC 12, which Nix 2.8 on Debian is built with) performs it when
 * its temporary buffer of (n+1)/2 elements is granted: each half is sorted by insertion sort in
 * chunks of 7 and then merged through the buffer, and the halves are merged last. The same
 * sequence of comparisons as Nix's sort means the same result for any comparator (consistent or
 * not), the same first error for values that cannot be compared, and the same order of traces.
 */
function stdStableSort(a: (Value | Thunk)[], less: (x: Value | Thunk, y: Value | Thunk) => boolean): void {
  const n = a.length;
  if (n < 2) return;
  const half = (n + 1) >> 1;
  const buf = new Array<Value | Thunk>(half);
  mergeSortWithBuffer(a, 0, half, buf, less);
  mergeSortWithBuffer(a, half, n, buf, less);
  mergeAdaptive(a, 0, half, n, buf, less);
}

const CHUNK = 7;

function insertionSort(a: (Value | Thunk)[], first: number, last: number, less: Less): void {
  for (let i = first + 1; i < last; i++) {
    const v = a[i]!;
    if (less(v, a[first]!)) {
      for (let k = i; k > first; k--) a[k] = a[k - 1]!;
      a[first] = v;
    } else {
      let j = i;
      // (Unguarded in libstdc++: a deterministic comparator stops at `first`, as checked above.)
      while (j > first && less(v, a[j - 1]!)) {
        a[j] = a[j - 1]!;
        j--;
      }
      a[j] = v;
    }
  }
}

type Less = (x: Value | Thunk, y: Value | Thunk) => boolean;

/** Merges src[f1..l1) and src[f2..l2) into dst from `out`, taking the first on ties; returns the end. */
function moveMerge(
  src: (Value | Thunk)[],
  f1: number,
  l1: number,
  f2: number,
  l2: number,
  dst: (Value | Thunk)[],
  out: number,
  less: Less,
): number {
  while (f1 !== l1 && f2 !== l2) {
    if (less(src[f2]!, src[f1]!)) dst[out++] = src[f2++]!;
    else dst[out++] = src[f1++]!;
  }
  while (f1 !== l1) dst[out++] = src[f1++]!;
  while (f2 !== l2) dst[out++] = src[f2++]!;
  return out;
}

function mergeSortLoop(
  src: (Value | Thunk)[],
  first: number,
  last: number,
  dst: (Value | Thunk)[],
  out: number,
  step: number,
  less: Less,
): void {
  const two = 2 * step;
  while (last - first >= two) {
    out = moveMerge(src, first, first + step, first + step, first + two, dst, out, less);
    first += two;
  }
  const s = Math.min(last - first, step);
  moveMerge(src, first, first + s, first + s, last, dst, out, less);
}

function mergeSortWithBuffer(
  a: (Value | Thunk)[],
  first: number,
  last: number,
  buf: (Value | Thunk)[],
  less: Less,
): void {
  const len = last - first;
  let f = first;
  while (last - f >= CHUNK) {
    insertionSort(a, f, f + CHUNK, less);
    f += CHUNK;
  }
  insertionSort(a, f, last, less);
  let step = CHUNK;
  while (step < len) {
    mergeSortLoop(a, first, last, buf, 0, step, less);
    step *= 2;
    mergeSortLoop(buf, 0, len, a, first, step, less);
    step *= 2;
  }
}

/** Merges the sorted a[first..middle) and a[middle..last) with the buffer (large enough for either). */
function mergeAdaptive(
  a: (Value | Thunk)[],
  first: number,
  middle: number,
  last: number,
  buf: (Value | Thunk)[],
  less: Less,
): void {
  const len1 = middle - first;
  const len2 = last - middle;
  if (len1 <= len2) {
    for (let i = 0; i < len1; i++) buf[i] = a[first + i]!;
    // Forward: the buffered first half against the second, in place.
    let b = 0;
    let m = middle;
    let out = first;
    while (b !== len1 && m !== last) {
      if (less(a[m]!, buf[b]!)) a[out++] = a[m++]!;
      else a[out++] = buf[b++]!;
    }
    while (b !== len1) a[out++] = buf[b++]!;
  } else {
    for (let i = 0; i < len2; i++) buf[i] = a[middle + i]!;
    // Backward: the first half against the buffered second half, from the ends.
    let l1 = middle;
    let l2 = len2;
    let out = last;
    if (l1 === first) {
      while (l2 !== 0) a[--out] = buf[--l2]!;
      return;
    }
    if (l2 === 0) return;
    l1--;
    l2--;
    while (true) {
      if (less(buf[l2]!, a[l1]!)) {
        a[--out] = a[l1]!;
        if (l1 === first) {
          l2++;
          while (l2 !== 0) a[--out] = buf[--l2]!;
          return;
        }
        l1--;
      } else {
        a[--out] = buf[l2]!;
        if (l2 === 0) return;
        l2--;
      }
    }
  }
}

function keyOf(v: Value): string | undefined {
  if (typeof v === 'number' || typeof v === 'bigint') return `i${v}`;
  if (typeof v === 'string') return `s${v}`;
  if (v instanceof NixFloat) return Number.isInteger(v.v) ? `i${v.v}` : `f${v.v}`;
  return undefined;
}

function keyKind(v: Value): string {
  if (typeof v === 'number' || typeof v === 'bigint' || v instanceof NixFloat) return 'number';
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v)) return 'list';
  return 'other';
}

function genericClosure(arg: Value | Thunk, pos?: Pos): Value {
  // In Nix 2.8's order: the set, startSet as a list, then the operator.
  const args = forceAttrs(arg, pos);
  const start = args.m.get('startSet');
  if (start === undefined) throw missingAttrFor('startSet', 'genericClosure', args, pos);
  const work = [...forceList(start, pos)];
  const op = args.m.get('operator');
  if (op === undefined) throw missingAttrFor('operator', 'genericClosure', args, pos);
  const opFn = force(op);
  const seen = new Set<string>();
  const seenOther: Value[] = [];
  const out: (Value | Thunk)[] = [];
  let firstKey: Value | undefined;
  for (let wi = 0; wi < work.length; wi++) {
    const e = work[wi]!;
    const attrs = forceAttrs(e, pos);
    const k = attrs.m.get('key');
    if (k === undefined) throw new NixEvalError('MISSING_ATTR', "attribute 'key' required", pos);
    const key = force(k);
    // Keys live in an ordered set, as in Nix: they must be comparable with each other (a new key
    // is compared with those already there, so it comes first in the error).
    if (firstKey === undefined) firstKey = key;
    else if (keyKind(firstKey) !== keyKind(key) || keyKind(key) === 'other') lessThan(key, firstKey, pos);
    const ks = keyOf(key);
    if (ks !== undefined) {
      if (seen.has(ks)) continue;
      seen.add(ks);
    } else {
      if (seenOther.some((o) => eqValues(o, key, pos))) continue;
      seenOther.push(key);
    }
    out.push(attrs);
    for (const x of forceList(callFunction(opFn, attrs, pos), pos)) work.push(x);
  }
  return out;
}
