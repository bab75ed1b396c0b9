// Helpers shared by the builtin definitions.
import { callFunction, callLambda } from '../ops.js';
import type { Pos } from '../source.js';
import { Attrs, Env, force, Lambda, Thunk, type Value } from '../value.js';

export function call2(f: Value, a: Value | Thunk, b: Value | Thunk, pos?: Pos): Value {
  // `x: y: …` applied to two arguments: skip building the intermediate function value.
  if (f instanceof Lambda && f.info.formals === undefined) {
    const inner = f.info.curried;
    if (inner !== undefined) return callLambda(new Lambda(inner, new Env(f.env, [a])), b, pos);
  }
  return callFunction(callFunction(f, a, pos), b, pos);
}

/** A thunk for `f x`, evaluated on demand. */
export function appThunk(f: Value, x: Value | Thunk, pos?: Pos): Thunk {
  return new Thunk(() => callFunction(f, x, pos), null);
}

export function appThunk2(f: Value, x: Value | Thunk, y: Value | Thunk, pos?: Pos): Thunk {
  return new Thunk(() => call2(f, x, y, pos), null);
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
      const names = x.sortedNames();
      for (let i = names.length - 1; i >= 0; i--) stack.push(x.m.get(names[i]!)!);
    }
  }
  return v;
}
