// Runtime values. Chosen for speed: ints are JS numbers while they are safe integers and bigints
// outside that range (always normalised), floats are boxed (NixFloat) so that 1 and 1.0 differ,
// strings without context are JS byte strings, lists are arrays, sets are Maps. A slot holding a
// value may instead hold a Thunk; `force` resolves it.
import { Bindings } from './bindings.js';
import { NixEvalError } from './errors.js';
import type { Pos } from './source.js';

export type NixInt = number | bigint;

export class NixFloat {
  constructor(readonly v: number) {}
}

/** A string with a non-empty context (a set of store paths, `=drv`, `!out!drv` elements). */
export class NixStr {
  readonly s: string;
  /** The context: its only element (most strings with a context have one), or a set of several. */
  readonly c: string | Set<string>;
  constructor(s: string, ctx: Set<string> | string) {
    this.s = s;
    this.c = typeof ctx === 'string' || ctx.size !== 1 ? ctx : (ctx.values().next().value as string);
  }
  /** The context as a set (a new one when it has one element). */
  get ctx(): Set<string> {
    return typeof this.c === 'string' ? new Set([this.c]) : this.c;
  }
  /** Adds the context's elements to `set`. */
  addContextTo(set: Set<string>): void {
    const c = this.c;
    if (typeof c === 'string') set.add(c);
    else for (const x of c) set.add(x);
  }
}

export class NixPath {
  constructor(readonly p: string) {}
}

/** Where attributes were defined; a Map, or a lookup composed lazily by `//`. */
export interface PosLookup {
  get(name: string): Pos | undefined;
  /** Where the set itself was written: set literals only, as 2.8's `Bindings::pos`. */
  readonly at?: Pos;
}

/** Where a set was written: only a set literal's result has a position (see PosLookup.at). */
export function setPos(a: Attrs): Pos | undefined {
  return a.pos?.at;
}

/**
 * A set: its Bindings (names and values) with the attributes' positions. An Attrs *is* its
 * Bindings (one object a set, not two; `m` is the set itself), sharing the arrays it was made from.
 */
export class Attrs extends Bindings {
  /** Source positions of attributes, for unsafeGetAttrPos. */
  pos: PosLookup | undefined;
  constructor(names: string[], vals: (Value | Thunk)[], pos?: PosLookup) {
    super(names, vals);
    this.pos = pos;
  }
  /** A set of the attributes of `m` (its arrays are shared, not copied). */
  static from(m: Bindings | Map<string, Value | Thunk>, pos?: PosLookup): Attrs {
    const b = m instanceof Bindings ? m : Bindings.fromMap(m);
    return new Attrs(b.names, b.vals, pos);
  }
  static empty = new Attrs([], []);
  /** The set's Bindings: the set itself. */
  get m(): Bindings {
    return this;
  }
  /** Names in byte order (strings are byte strings, so code-unit order is byte order). */
  sortedNames(): string[] {
    return this.names.slice();
  }
}

export type Code = (env: Env) => Value;

const NO_SLOTS: (Value | Thunk)[] = [];

/**
 * An environment: the values of one scope and the enclosing environment. A scope of one value (a
 * `x: …` argument, a `with` set) keeps it in `a`, saving the array (the compiler knows which
 * scopes do); others keep their slots in `v`. One class for both, so that reads stay monomorphic.
 */
export class Env {
  readonly up: Env | null;
  /** Set once, when the environment is made (or, for a lone formal, right after). */
  a: Value | Thunk;
  readonly v: (Value | Thunk)[];
  constructor(up: Env | null, v: (Value | Thunk)[], a: Value | Thunk = null) {
    this.up = up;
    this.a = a;
    this.v = v;
  }
  /** An environment of one value, read through `a`. */
  static one(up: Env | null, a: Value | Thunk): Env {
    return new Env(up, NO_SLOTS, a);
  }
}

export interface LambdaInfo {
  name: string | undefined;
  pos: Pos;
  /** Simple argument name or @-name. */
  arg: string | undefined;
  formals:
    | {
        names: string[];
        defaults: (((env: Env) => Value | Thunk) | undefined)[];
        ellipsis: boolean;
        pos: Pos[];
        /** Per formal, the index in the argument set where it was found last (tried first). */
        guess: number[];
      }
    | undefined;
  body: Code;
  /** Number of env slots: [arg?] + formals. */
  nslots: number;
  /** When the body is itself a simple `y: …` lambda (a curried function), its info. */
  curried?: LambdaInfo;
}

export class Lambda {
  constructor(
    readonly info: LambdaInfo,
    readonly env: Env,
  ) {}
}

export type PrimFn = (args: (Value | Thunk)[], pos: Pos | undefined) => Value;

export class PrimOp {
  constructor(
    readonly name: string,
    readonly arity: number,
    readonly fn: PrimFn,
  ) {}
}

export class PrimOpApp {
  constructor(
    readonly op: PrimOp,
    readonly args: (Value | Thunk)[],
  ) {}
}

export type NixList = (Value | Thunk)[];

export type Value =
  | NixInt
  | NixFloat
  | boolean
  | null
  | string
  | NixStr
  | NixPath
  | NixList
  | Attrs
  | Lambda
  | PrimOp
  | PrimOpApp;

const BLACKHOLE: Code = () => {
  throw new NixEvalError('INFINITE_RECURSION', 'infinite recursion encountered');
};

/** What a thunk runs: its code with its env (a thunk subclass may read its own fields instead). */
export type ThunkCode = (env: Env, self: Thunk) => Value;

export class Thunk {
  // Assigned in the constructor, not as class fields: a field initializer would be a separate
  // call on every allocation (subclasses keep their class fields, which V8 lays out better).
  declare c: ThunkCode | null;
  declare e: Env | null;
  declare v: Value;
  constructor(c: ThunkCode, e: Env | null) {
    this.c = c;
    this.e = e;
    this.v = null;
  }
  /** The value; `pos` (where it is needed) is where an infinite recursion is reported. */
  force(pos?: Pos): Value {
    const c = this.c;
    if (c === null) return this.v;
    if (c === BLACKHOLE && pos !== undefined) {
      throw new NixEvalError('INFINITE_RECURSION', 'infinite recursion encountered', pos);
    }
    this.c = BLACKHOLE;
    try {
      const v = c(this.e as Env, this);
      this.v = v;
      this.c = null;
      this.e = null;
      return v;
    } catch (err) {
      // A failed thunk is evaluated again when forced again (as Nix 2.8 does).
      this.c = c;
      throw err;
    }
  }
  get forced(): boolean {
    return this.c === null;
  }
  get blackholed(): boolean {
    return this.c === BLACKHOLE;
  }
}

/**
 * `a ++ b` as a new list. A copy loop beats Array.prototype.concat by about eight times on the
 * short lists most concatenations join; concat's block copy wins on long ones.
 */
export function joinLists(a: (Value | Thunk)[], b: (Value | Thunk)[]): (Value | Thunk)[] {
  const n = a.length;
  const m = b.length;
  if (n + m > 64) return a.concat(b);
  const out: (Value | Thunk)[] = new Array(n + m);
  for (let i = 0; i < n; i++) out[i] = a[i]!;
  for (let j = 0; j < m; j++) out[n + j] = b[j]!;
  return out;
}

/** The value of `v`; `pos`, where given, is where an infinite recursion is reported. */
export function force(v: Value | Thunk, pos?: Pos): Value {
  return v instanceof Thunk ? v.force(pos) : v;
}

/**
 * Whether a forced thunk may give way to its value where it is held (a set, list or environment
 * slot), so that it can be collected. Nix 2.8 tells some values apart by the cell holding them,
 * which here is the thunk: a function is `==` to itself only in the same cell, and a list of one
 * or two elements is printed «repeated» by its cell (print.ts). Those keep their thunk.
 */
export function inlinable(v: Value): boolean {
  if (typeof v !== 'object' || v === null) return true;
  if (Array.isArray(v)) return v.length > 2;
  return !(v instanceof Lambda || v instanceof PrimOp || v instanceof PrimOpApp);
}

/**
 * The value in `slots[i]`, forcing it. A thunk, once forced, is replaced there by its value (where
 * inlinable allows): every reader of the slot sees the same value, and the thunk, no longer held
 * by a long-lived set or list, can be collected while still young instead of being copied into the
 * old generation.
 */
export function forceSlot(slots: (Value | Thunk)[], i: number, pos?: Pos): Value {
  const x = slots[i]!;
  if (!(x instanceof Thunk)) return x;
  const v = x.force(pos);
  if (inlinable(v)) slots[i] = v;
  return v;
}

/** A thunk already holding its value. */
export function valueThunk(v: Value): Thunk {
  const t = new Thunk(BLACKHOLE, null);
  t.c = null;
  t.v = v;
  return t;
}

export function typeOf(v: Value): string {
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return 'int';
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
  }
  if (v === null) return 'null';
  if (v instanceof NixStr) return 'string';
  if (v instanceof NixFloat) return 'float';
  if (v instanceof NixPath) return 'path';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Attrs) return 'set';
  return 'lambda';
}

/** The phrase Nix uses in type errors ("an integer", "a set", …). */
export function showType(v: Value): string {
  switch (typeOf(v)) {
    case 'int':
      return 'an integer';
    case 'bool':
      return 'a Boolean';
    case 'string':
      return v instanceof NixStr ? 'a string with context' : 'a string';
    case 'null':
      return 'null';
    case 'float':
      return 'a float';
    case 'path':
      return 'a path';
    case 'list':
      return 'a list';
    case 'set':
      return 'a set';
  }
  if (v instanceof PrimOp) return `the built-in function '${v.name}'`;
  if (v instanceof PrimOpApp) return `the partially applied built-in function '${v.op.name}'`;
  return 'a function';
}

export function isFunction(v: Value): boolean {
  return v instanceof Lambda || v instanceof PrimOp || v instanceof PrimOpApp;
}

/**
 * Nix 2.8's Value::determinePos: where a set literal or a lambda was written (nothing for a set
 * without a position), or `pos` for any other value and for a value not yet evaluated.
 */
export function determinePos(x: Value | Thunk, pos: Pos | undefined): Pos | undefined {
  const v = x instanceof Thunk ? (x.forced ? x.v : undefined) : x;
  if (v instanceof Attrs) return setPos(v);
  if (v instanceof Lambda) return v.info.pos;
  return pos;
}
