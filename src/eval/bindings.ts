// The attributes of a set: names sorted in byte order (byte strings compare in byte order with
// JavaScript's `<`) with their values in parallel arrays, as Nix's Bindings. Copying for `//` is an
// array copy, which is far cheaper than rehashing a Map; lookups are binary searches. Read-only
// once built (the `set`/`delete` methods are for builders only).
import type { Thunk, Value } from './value.js';

type Slot = Value | Thunk;

/** How many names, from the first, are in strictly increasing byte order. */
function sortedPrefix(names: string[]): number {
  let i = 1;
  while (i < names.length && names[i - 1]! < names[i]!) i++;
  return Math.min(i, names.length);
}

/** The indices 0 … n-1. */
function indices(n: number): number[] {
  const order: number[] = new Array(n);
  for (let j = 0; j < n; j++) order[j] = j;
  return order;
}

/** The permutation that puts distinct names in byte order, or undefined when they are in it. */
export function sortOrder(names: string[]): number[] | undefined {
  const i = sortedPrefix(names);
  const n = names.length;
  if (i >= n) return undefined;
  const order = indices(n);
  if (n > 16) return order.sort((a, b) => (names[a]! < names[b]! ? -1 : 1));
  // Insertion sort: a few names sort faster here than through sort's comparator calls.
  for (let j = i; j < n; j++) {
    const x = order[j]!;
    const key = names[x]!;
    let k = j - 1;
    while (k >= 0 && names[order[k]!]! > key) {
      order[k + 1] = order[k]!;
      k--;
    }
    order[k + 1] = x;
  }
  return order;
}

/**
 * Like sortOrder for names that may repeat: the permutation that puts the first occurrence of each
 * name in byte order, leaving later ones out; undefined when the names are distinct and in order.
 */
export function sortOrderFirsts(names: string[]): number[] | undefined {
  const n = names.length;
  if (sortedPrefix(names) >= n) return undefined;
  // Equal names keep their order, so the first occurrence leads its run.
  const order = indices(n).sort((a, b) => (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : a - b));
  let w = 0;
  for (let r = 0; r < n; r++)
    if (w === 0 || names[order[r]!] !== names[order[w - 1]!]) order[w++] = order[r]!;
  order.length = w;
  return order;
}

/** `xs` in the order sortOrder gave (xs itself when that was undefined). */
export function permute<T>(xs: T[], order: number[] | undefined): T[] {
  return order === undefined ? xs : order.map((i) => xs[i]!);
}

export class Bindings {
  constructor(
    readonly names: string[],
    readonly vals: Slot[],
  ) {}

  static fromMap(m: Map<string, Slot>): Bindings {
    const names = [...m.keys()].sort();
    return new Bindings(
      names,
      names.map((n) => m.get(n)!),
    );
  }

  get size(): number {
    return this.names.length;
  }

  indexOf(name: string): number {
    const names = this.names;
    let lo = 0;
    let hi = names.length - 1;
    if (hi < 8) {
      for (let i = 0; i <= hi; i++) if (names[i] === name) return i;
      return -1;
    }
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const k = names[mid]!;
      if (k === name) return mid;
      if (k < name) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /**
   * indexOf, trying `hint` first: a lookup site passes the index of its last hit, since the sets
   * it sees tend to share one layout (then a hit costs one comparison instead of a search).
   */
  indexNear(name: string, hint: number): number {
    const names = this.names;
    return hint < names.length && names[hint] === name ? hint : this.indexOf(name);
  }

  get(name: string): Slot | undefined {
    const i = this.indexOf(name);
    return i < 0 ? undefined : this.vals[i];
  }

  has(name: string): boolean {
    return this.indexOf(name) >= 0;
  }

  /** Builder use only: inserts or replaces. */
  set(name: string, v: Slot): this {
    const names = this.names;
    let lo = 0;
    let hi = names.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (names[mid]! < name) lo = mid + 1;
      else hi = mid;
    }
    if (names[lo] === name) this.vals[lo] = v;
    else {
      names.splice(lo, 0, name);
      this.vals.splice(lo, 0, v);
    }
    return this;
  }

  /** Builder use only. */
  delete(name: string): boolean {
    const i = this.indexOf(name);
    if (i < 0) return false;
    this.names.splice(i, 1);
    this.vals.splice(i, 1);
    return true;
  }

  keys(): IterableIterator<string> {
    return this.names.values();
  }

  values(): IterableIterator<Slot> {
    return this.vals.values();
  }

  *entries(): IterableIterator<[string, Slot]> {
    for (let i = 0; i < this.names.length; i++) yield [this.names[i]!, this.vals[i]!];
  }

  [Symbol.iterator](): IterableIterator<[string, Slot]> {
    return this.entries();
  }

  /**
   * `a // b`: names of both, values of b winning. When b adds no names the result shares a's
   * names array (and b's when a adds none), which keeps repeated small updates cheap. Called on a
   * subclass (`Attrs.update`), it makes an instance of that class.
   */
  static update<T extends Bindings>(
    this: new (
      names: string[],
      vals: Slot[],
    ) => T,
    a: Bindings,
    b: Bindings,
  ): T {
    const an = a.names;
    const bn = b.names;
    const bv = b.vals;
    if (bn.length <= 8) {
      // Only values change when every name of b is already in a (binary searches, no merge).
      let i = 0;
      while (i < bn.length && a.indexOf(bn[i]!) >= 0) i++;
      if (i === bn.length) {
        const vals = a.vals.slice();
        for (let j = 0; j < bn.length; j++) vals[a.indexOf(bn[j]!)] = bv[j]!;
        return new this(an, vals);
      }
    }
    const av = a.vals;
    const names: string[] = [];
    const vals: Slot[] = [];
    let i = 0;
    let j = 0;
    while (i < an.length && j < bn.length) {
      const x = an[i]!;
      const y = bn[j]!;
      if (x < y) {
        names.push(x);
        vals.push(av[i++]!);
      } else {
        names.push(y);
        vals.push(bv[j++]!);
        if (x === y) i++;
      }
    }
    while (i < an.length) {
      names.push(an[i]!);
      vals.push(av[i++]!);
    }
    while (j < bn.length) {
      names.push(bn[j]!);
      vals.push(bv[j++]!);
    }
    if (names.length === an.length) return new this(an, vals);
    if (names.length === bn.length) return new this(bn, vals);
    return new this(names, vals);
  }
}
