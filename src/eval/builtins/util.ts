// Helpers shared by the builtin definitions.
import { callClosure, callFunction } from '../ops.js';
import type { Pos } from '../source.js';
import { Attrs, Env, force, Lambda, PrimOp, Thunk, type Value } from '../value.js';

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
 */
class AppThunk extends Thunk {
  constructor(
    public f: Value,
    public x: Value | Thunk,
    public y: Value | Thunk | undefined,
    readonly pos: Pos | undefined,
  ) {
    super(apply, null);
  }
}

function apply(_env: Env, self: Thunk): Value {
  const t = self as AppThunk;
  const v = t.y === undefined ? callFunction(t.f, t.x, t.pos) : call2(t.f, t.x, t.y, t.pos);
  t.f = null;
  t.x = null;
  t.y = null;
  return v;
}

/** A thunk for `f x`, evaluated on demand. */
export function appThunk(f: Value, x: Value | Thunk, pos?: Pos): Thunk {
  return new AppThunk(f, x, undefined, pos);
}

export function appThunk2(f: Value, x: Value | Thunk, y: Value | Thunk, pos?: Pos): Thunk {
  return new AppThunk(f, x, y, pos);
}

export function mkAttrs(entries: [string, Value | Thunk][]): Attrs {
  return new Attrs(new Map(entries));
}

/** Forces a value and everything inside it (lists and sets), detecting cycles. */
export function forceDeep(t: Value | Thunk): Value {
  const v = force(t);
  const seen = new Set<object>();
  const stack: (Value | Thunk)[] = [v];
  while (stack.length > 0) {
    const x = force(stack.pop()!);
    if (Array.isArray(x)) {
      if (seen.has(x)) continue;
      seen.add(x);
      for (let i = x.length - 1; i >= 0; i--) stack.push(x[i]!);
    } else if (x instanceof Attrs) {
      if (seen.has(x)) continue;
      seen.add(x);
      const vals = x.m.vals;
      for (let i = vals.length - 1; i >= 0; i--) stack.push(vals[i]!);
    }
  }
  return v;
}
