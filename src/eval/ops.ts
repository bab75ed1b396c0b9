// Core operations on values: forcing to a type, calling functions, equality, ordering. Forcing at
// a position reports infinite recursion there, as Nix 2.8's forceValue(v, pos).
import { isInt } from './arith.js';
import { withSuggestions } from './attr-errors.js';
import type { Bindings } from './bindings.js';
import { NixEvalError } from './errors.js';
import { explicitElement } from './lazy-drv.js';
import { type Pos, showPos } from './source.js';
import { printAttrName } from './text/strings.js';
import {
  Attrs,
  Env,
  force,
  Lambda,
  type LambdaInfo,
  NixFloat,
  type NixInt,
  type NixList,
  NixPath,
  NixStr,
  type PosLookup,
  PrimOp,
  PrimOpApp,
  showType,
  Thunk,
  type Value,
} from './value.js';

export function typeError(v: Value, expected: string, pos?: Pos): NixEvalError {
  return new NixEvalError('TYPE', `value is ${showType(v)} while ${expected} was expected`, pos);
}

export function forceAttrs(t: Value | Thunk, pos?: Pos): Attrs {
  const v = t instanceof Thunk ? t.force(pos) : t;
  if (v instanceof Attrs) return v;
  throw typeError(v, 'a set', pos);
}

export function forceList(t: Value | Thunk, pos?: Pos): NixList {
  const v = t instanceof Thunk ? t.force(pos) : t;
  if (Array.isArray(v)) return v;
  throw typeError(v, 'a list', pos);
}

export function forceInt(t: Value | Thunk, pos?: Pos): NixInt {
  const v = t instanceof Thunk ? t.force(pos) : t;
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  throw typeError(v, 'an integer', pos);
}

export function forceBool(t: Value | Thunk, pos?: Pos): boolean {
  const v = t instanceof Thunk ? t.force(pos) : t;
  if (typeof v === 'boolean') return v;
  throw typeError(v, 'a Boolean', pos);
}

export function forceFloat(t: Value | Thunk, pos?: Pos): number {
  const v = t instanceof Thunk ? t.force(pos) : t;
  if (v instanceof NixFloat) return v.v;
  if (isInt(v)) return Number(v);
  throw typeError(v, 'a float', pos);
}

export function forceFunction(t: Value | Thunk, pos?: Pos): Value {
  const v = t instanceof Thunk ? t.force(pos) : t;
  if (v instanceof Lambda || v instanceof PrimOp || v instanceof PrimOpApp) return v;
  if (v instanceof Attrs && v.m.has('__functor')) return v;
  throw typeError(v, 'a function', pos);
}

/** A string's bytes, ignoring context; errors on non-strings. */
export function forceString(t: Value | Thunk, pos?: Pos): string {
  const v = t instanceof Thunk ? t.force(pos) : t;
  if (typeof v === 'string') return v;
  if (v instanceof NixStr) return v.s;
  throw typeError(v, 'a string', pos);
}

/** A string and its context (added to `ctx`). */
export function forceStringCtx(t: Value | Thunk, ctx: Set<string>, pos?: Pos): string {
  const v = t instanceof Thunk ? t.force(pos) : t;
  if (typeof v === 'string') return v;
  if (v instanceof NixStr) {
    v.addContextTo(ctx);
    return v.s;
  }
  throw typeError(v, 'a string', pos);
}

/** A string that must have no context (attribute names, `throw` messages are not of this kind). */
export function forceStringNoCtx(t: Value | Thunk, pos?: Pos): string {
  const v = t instanceof Thunk ? t.force(pos) : t;
  if (typeof v === 'string') return v;
  if (v instanceof NixStr) {
    throw new NixEvalError(
      'TYPE',
      `the string '${v.s}' is not allowed to refer to a store path (such as '${explicitElement([...v.ctx][0]!)}')`,
      pos,
    );
  }
  return forceString(v, pos);
}

export function mkStr(s: string, ctx: Set<string> | undefined): Value {
  return ctx && ctx.size > 0 ? new NixStr(s, ctx) : s;
}

/**
 * Context sets for building one string: most strings have none, so the set collected into is
 * usually still empty afterwards and serves the next string. takeCtx's set must be handed back
 * through mkPooledStr (and be referenced nowhere else); one lost to an exception is just dropped.
 */
const ctxPool: Set<string>[] = [];

export function takeCtx(): Set<string> {
  return ctxPool.pop() ?? new Set<string>();
}

/** mkStr for a set from takeCtx: a non-empty one becomes the string's context, an empty one is reused. */
export function mkPooledStr(s: string, ctx: Set<string>): Value {
  const n = ctx.size;
  if (n > 1) return new NixStr(s, ctx);
  let r: Value = s;
  if (n === 1) {
    r = new NixStr(s, ctx.values().next().value as string);
    ctx.clear();
  }
  if (ctxPool.length < 64) ctxPool.push(ctx);
  return r;
}

export function isDerivation(v: Value): boolean {
  if (!(v instanceof Attrs)) return false;
  const t = v.m.get('type');
  if (t === undefined) return false;
  const tv = force(t);
  return (typeof tv === 'string' && tv === 'derivation') || (tv instanceof NixStr && tv.s === 'derivation');
}

export function callFunction(f: Value, arg: Value | Thunk, pos?: Pos): Value {
  if (f instanceof Lambda) return callLambda(f, arg, pos);
  if (f instanceof PrimOp) {
    if (f.arity === 1) return f.fn([arg], pos);
    return new PrimOpApp(f, [arg]);
  }
  if (f instanceof PrimOpApp) {
    // (a copy loop: concat is several times slower on such short arrays)
    const held = f.args;
    const args: (Value | Thunk)[] = new Array(held.length + 1);
    for (let i = 0; i < held.length; i++) args[i] = held[i]!;
    args[held.length] = arg;
    if (args.length === f.op.arity) return f.op.fn(args, pos);
    return new PrimOpApp(f.op, args);
  }
  if (f instanceof Attrs) {
    const functor = f.m.get('__functor');
    if (functor !== undefined) {
      const g = callFunction(force(functor), f, pos);
      return callFunction(g, arg, pos);
    }
  }
  throw new NixEvalError('TYPE', `attempt to call something which is not a function but ${showType(f)}`, pos);
}

/** A function in Nix 2.8's argument errors: `'f' at file:1:9`, `anonymous function at …`. */
function describeLambda(info: LambdaInfo): string {
  return `${info.name !== undefined ? `'${info.name}'` : 'anonymous function'} at ${showPos(info.pos)}`;
}

function lambdaName(info: LambdaInfo): string {
  return info.name !== undefined ? `'${info.name}'` : 'anonymous lambda';
}

export function callLambda(f: Lambda, arg: Value | Thunk, pos?: Pos): Value {
  return callClosure(f.info, f.env, arg, pos);
}

const NO_SLOTS: (Value | Thunk)[] = [];

/** Calls the lambda `info` closed over `up` (a Lambda's parts, which callers may not have built). */
export function callClosure(info: LambdaInfo, up: Env, arg: Value | Thunk, pos?: Pos): Value {
  const formals = info.formals;
  let env: Env;
  if (formals === undefined) {
    env = Env.one(up, arg);
  } else {
    const a = forceAttrs(arg, pos);
    const names = formals.names;
    const guess = formals.guess;
    // One slot (one formal, or only `args@{ ... }`) lives in Env.a, as the compiler expects.
    const one = info.nslots === 1;
    const slots: (Value | Thunk)[] = one ? NO_SLOTS : new Array(info.nslots);
    env = one ? Env.one(up, null) : new Env(up, slots);
    let used = 0;
    for (let i = 0; i < names.length; i++) {
      // Callers tend to pass sets of one layout: try where the name was found last time.
      const j = a.m.indexNear(names[i]!, guess[i]!);
      if (j >= 0) guess[i] = j;
      let x: Value | Thunk;
      if (j >= 0) {
        x = a.m.vals[j]!;
        used++;
      } else {
        const d = formals.defaults[i];
        if (d === undefined) {
          throw new NixEvalError(
            'TYPE',
            `${describeLambda(info)} called without required argument '${names[i]}'`,
            pos,
          );
        }
        x = d(env);
      }
      if (one) env.a = x;
      else slots[i] = x;
    }
    if (info.arg !== undefined) {
      if (one) env.a = arg;
      else slots[names.length] = arg;
    }
    if (!formals.ellipsis && used < a.m.size) {
      for (const k of a.m.keys()) {
        if (!names.includes(k)) {
          throw withSuggestions(
            new NixEvalError(
              'TYPE',
              `${describeLambda(info)} called with unexpected argument '${printAttrName(k)}'`,
              pos,
            ),
            names,
            k,
          );
        }
      }
    }
  }
  try {
    return info.body(env);
  } catch (e) {
    if (e instanceof NixEvalError && e.trace.length < 200) {
      e.addTrace(info.pos, `while evaluating ${lambdaName(info)}`, true);
      e.addTrace(pos, 'from call site', true);
    }
    throw e;
  }
}

/** Nix's equality: ints and floats compare numerically; sets that are derivations compare by outPath. */
export function eqValues(a: Value | Thunk, b: Value | Thunk, pos?: Pos): boolean {
  return eqForced(force(a), force(b), pos);
}

/**
 * Equality of two values held in lists, sets or builtin arguments. As in Nix 2.8, one and the
 * same value is equal to itself even when it could not be compared (a function, a set holding
 * one), but only after it is forced: a value that fails to evaluate fails the comparison.
 */
export function eqElem(a: Value | Thunk, b: Value | Thunk, pos?: Pos): boolean {
  if (a === b && typeof a === 'object' && a !== null) {
    force(a);
    return true;
  }
  return eqForced(force(a), force(b), pos);
}

function eqForced(a: Value, b: Value, pos?: Pos): boolean {
  if (typeof a === 'string') {
    if (typeof b === 'string') return a === b;
    return b instanceof NixStr && b.s === a;
  }
  if (typeof a === 'number' || typeof a === 'bigint') {
    if (typeof b === 'number' || typeof b === 'bigint') return a === b;
    if (b instanceof NixFloat) return Number(a) === b.v;
    return false;
  }
  if (typeof a === 'boolean' || a === null) return a === b;
  if (a instanceof NixFloat) {
    if (b instanceof NixFloat) return a.v === b.v;
    if (typeof b === 'number' || typeof b === 'bigint') return a.v === Number(b);
    return false;
  }
  if (a instanceof NixStr) {
    if (typeof b === 'string') return a.s === b;
    return b instanceof NixStr && a.s === b.s;
  }
  if (a instanceof NixPath) return b instanceof NixPath && a.p === b.p;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    // (the same list is equal to itself once each element is forced: see eqElem)
    for (let i = 0; i < a.length; i++) if (!eqElem(a[i]!, b[i]!, pos)) return false;
    return true;
  }
  if (a instanceof Attrs) {
    if (!(b instanceof Attrs)) return false;
    if (isDerivation(a) && isDerivation(b)) {
      const x = a.m.get('outPath');
      const y = b.m.get('outPath');
      if (x !== undefined && y !== undefined) return eqElem(x, y, pos);
    }
    if (a.m.size !== b.m.size) return false;
    // Same size and sorted names: equal sets have equal names at equal indices (compared in
    // order, name then value, as Nix does).
    const { names: an, vals: av } = a.m;
    const { names: bn, vals: bv } = b.m;
    for (let i = 0; i < an.length; i++) if (an[i] !== bn[i] || !eqElem(av[i]!, bv[i]!, pos)) return false;
    return true;
  }
  return false;
}

/** `<` on numbers, strings, paths and lists (lexicographically). */
export function lessThan(a: Value | Thunk, b: Value | Thunk, pos?: Pos): boolean {
  const x = force(a);
  const y = force(b);
  if ((typeof x === 'number' || typeof x === 'bigint') && (typeof y === 'number' || typeof y === 'bigint')) {
    return x < y;
  }
  if (x instanceof NixFloat || y instanceof NixFloat) {
    if ((isInt(x) || x instanceof NixFloat) && (isInt(y) || y instanceof NixFloat)) {
      const fx = x instanceof NixFloat ? x.v : Number(x);
      const fy = y instanceof NixFloat ? y.v : Number(y);
      return fx < fy;
    }
  }
  if ((typeof x === 'string' || x instanceof NixStr) && (typeof y === 'string' || y instanceof NixStr)) {
    return (typeof x === 'string' ? x : x.s) < (typeof y === 'string' ? y : y.s);
  }
  if (x instanceof NixPath && y instanceof NixPath) return x.p < y.p;
  if (Array.isArray(x) && Array.isArray(y)) {
    for (let i = 0; ; i++) {
      if (i === y.length) return false;
      if (i === x.length) return true;
      if (!eqElem(x[i]!, y[i]!, pos)) return lessThan(x[i]!, y[i]!, pos);
    }
  }
  throw new NixEvalError('TYPE', `cannot compare ${showType(x)} with ${showType(y)}`, pos);
}

export function updateAttrs(a: Attrs, b: Attrs): Attrs {
  if (b.m.size === 0) return a;
  if (a.m.size === 0) return b;
  const m = Attrs.update(a, b);
  m.pos = composePos(a.pos, b, m);
  return m;
}

/** Positions of `a // b`, looked up on demand (unsafeGetAttrPos) rather than copied. */
class UpdatedPos implements PosLookup {
  constructor(
    readonly a: PosLookup | undefined,
    readonly bm: Bindings,
    readonly b: PosLookup | undefined,
    readonly depth: number,
  ) {}
  get(name: string): Pos | undefined {
    return this.bm.has(name) ? this.b?.get(name) : this.a?.get(name);
  }
}

/**
 * Updates chained before their positions are flattened: long enough that a fold over `//` on a big
 * set flattens rarely (each flattening visits every name), short enough for lookups to stay cheap.
 */
const MAX_POS_DEPTH = 1024;

function composePos(ap: PosLookup | undefined, b: Attrs, m: Bindings): PosLookup | undefined {
  const bp = b.pos;
  if (!ap && !bp) return undefined;
  const depth =
    Math.max(ap instanceof UpdatedPos ? ap.depth : 0, bp instanceof UpdatedPos ? bp.depth : 0) + 1;
  const p = new UpdatedPos(ap, b.m, bp, depth);
  if (depth < MAX_POS_DEPTH) return p;
  // A long chain of updates (a fold over `//`) is flattened, so that it neither keeps every
  // intermediate set alive nor makes lookups walk the whole chain. Newest definitions win.
  const decided = new Map<string, Pos | undefined>();
  let cur: PosLookup | undefined = p;
  while (cur instanceof UpdatedPos) {
    const { bm, b: lookup } = cur;
    for (const n of bm.names) if (!decided.has(n)) decided.set(n, lookup?.get(n));
    cur = cur.a;
  }
  const flat = new Map<string, Pos>();
  for (const n of m.names) {
    const x = decided.has(n) ? decided.get(n) : cur?.get(n);
    if (x !== undefined) flat.set(n, x);
  }
  return flat;
}
