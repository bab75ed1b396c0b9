// Helpers shared by the builtin definitions.

import { addAttrTrace } from '../attr-errors.js';
import { callClosure, callFunction } from '../ops.js';
import { type Pos, toBytes } from '../source.js';
import { Attrs, Env, force, forceSlot, Lambda, PrimOp, Thunk, type Value } from '../value.js';

export function call2(f: Value, a: Value | Thunk, b: Value | Thunk, pos?: Pos): Value {
  // `x: y: …` applied to two arguments: skip building the intermediate function value.
  if (f instanceof Lambda && f.info.formals === undefined) {
    const inner = f.info.curried;
    if (inner !== undefined) return callClosure(inner, Env.one(f.env, a), b, pos);
  } else if (f instanceof PrimOp && f.arity === 2) return f.fn([a, b], pos);
  return callFunction(callFunction(f, a, pos), b, pos);
}

/**
 * A thunk for `f x` or `f x y`: one object where a closure would take three (map, genList and
 * mapAttrs make one per element). The function and arguments are dropped once it has a value.
 * Nix 2.8's application values have no position, so an error of the call itself names no place
 * there; this one keeps the builtin's call, so that the error says where.
 */
class AppThunk extends Thunk {
  constructor(
    public f: Value | Thunk,
    public x: Value | Thunk,
    public y: Value | Thunk | undefined,
    readonly pos: Pos | undefined,
  ) {
    super(apply, null);
  }
}

function apply(_env: Env, self: Thunk): Value {
  const t = self as AppThunk;
  const f = force(t.f);
  const v = t.y === undefined ? callFunction(f, t.x, t.pos) : call2(f, t.x, t.y, t.pos);
  t.f = null;
  t.x = null;
  t.y = null;
  return v;
}

/**
 * A thunk for `f x`, evaluated on demand. The function itself is forced only then (map, genList
 * and mapAttrs do not force it, as in Nix 2.8); an already evaluated one is kept as its value.
 */
export function appThunk(f: Value | Thunk, x: Value | Thunk, pos?: Pos): Thunk {
  return new AppThunk(f instanceof Thunk && f.forced ? f.v : f, x, undefined, pos);
}

export function appThunk2(f: Value | Thunk, x: Value | Thunk, y: Value | Thunk, pos?: Pos): Thunk {
  return new AppThunk(f instanceof Thunk && f.forced ? f.v : f, x, y, pos);
}

export function mkAttrs(entries: [string, Value | Thunk][]): Attrs {
  return Attrs.from(new Map(entries));
}

/**
 * Forces a value and everything inside it (lists and sets), depth first and in order, as Nix's
 * forceValueDeep does, detecting cycles. An error raised inside a set gets a "while evaluating
 * the attribute" frame per enclosing set, as forceValueDeep adds them. A thunk forced here gives
 * way to its value in its list or set where it may (forceSlot), so that it can be collected.
 */
export function forceDeep(t: Value | Thunk): Value {
  const v = force(t);
  if (!Array.isArray(v) && !(v instanceof Attrs)) return v;
  const seen = new Set<object>([v]);
  // The slots of the lists and sets being walked, and the next index in each.
  const slotStack: (Value | Thunk)[][] = [Array.isArray(v) ? v : v.m.vals];
  const indexStack: number[] = [0];
  while (slotStack.length > 0) {
    const top = slotStack.length - 1;
    const slots = slotStack[top]!;
    const i = indexStack[top]!;
    if (i >= slots.length) {
      slotStack.pop();
      indexStack.pop();
      continue;
    }
    indexStack[top] = i + 1;
    const item = slots[i]!;
    let x: Value;
    try {
      x = forceSlot(slots, i);
    } catch (err) {
      addDeepTraces(err, v, item as Thunk);
      throw err;
    }
    if (Array.isArray(x)) {
      if (seen.has(x)) continue;
      seen.add(x);
      slotStack.push(x);
      indexStack.push(0);
    } else if (x instanceof Attrs) {
      if (seen.has(x)) continue;
      seen.add(x);
      slotStack.push(x.m.vals);
      indexStack.push(0);
    }
  }
  return v;
}

/** On an error from forceDeep: finds the sets on the way from `root` to `failed`, adds their frames. */
function addDeepTraces(err: unknown, root: Value, failed: Thunk): void {
  const path: { attrs: Attrs; name: string }[] = [];
  const seen = new Set<object>();
  const find = (x: Value | Thunk): boolean => {
    if (x === failed) return true;
    const y = x instanceof Thunk ? (x.forced ? x.v : undefined) : x;
    if (typeof y !== 'object' || y === null || seen.has(y)) return false;
    seen.add(y);
    if (Array.isArray(y)) return y.some(find);
    if (!(y instanceof Attrs)) return false;
    const { names, vals } = y.m;
    for (let i = 0; i < vals.length; i++) {
      if (find(vals[i]!)) {
        path.push({ attrs: y, name: names[i]! });
        return true;
      }
    }
    return false;
  };
  // Deep structures may exceed the stack: then the frames are left out.
  try {
    find(root);
  } catch {
    return;
  }
  for (const { attrs, name } of path) addAttrTrace(err, name, attrs.pos?.get(name), true);
}

/**
 * A store-path error about the (decoded) name as Nix 2.8 prints it: in bytes, the refused
 * character being the first byte of its UTF-8 encoding (2.8 checks names byte by byte).
 */
export function byteMessage(message: string): string {
  const m = /^(.*) contains illegal character '(.+)'$/s.exec(message);
  if (m === null) return toBytes(message);
  return `${toBytes(m[1]!)} contains illegal character '${toBytes(m[2]!)[0]}'`;
}
