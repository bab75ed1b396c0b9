// Compiles the AST into JavaScript closures. Variables are resolved at compile time to (depth,
// slot) pairs in the chain of Envs; only names bound by nothing but a `with` are looked up at run
// time, in the enclosing `with` sets (innermost first). Lazy positions (attribute values, list
// elements, let bindings, arguments) get a Thunk unless the expression is a constant or a variable,
// as Nix's maybeThunk does.
import { arith, intSub } from './arith.js';
import type { AttrDef, AttrName, AttrsExpr, Expr } from './ast.js';
import { addAttrTrace, missingAttr } from './attr-errors.js';
import { Bindings, permute, sortOrder } from './bindings.js';
import { call2 } from './builtins/util.js';
import { concatRest } from './concat.js';
import { NixEvalError } from './errors.js';
import {
  callClosure,
  callFunction,
  eqValues,
  forceAttrs,
  forceBool,
  forceList,
  forceStringNoCtx,
  lessThan,
  typeError,
  updateAttrs,
} from './ops.js';
import {
  bindingsScope,
  checkVariables,
  lambdaScope,
  resolve,
  type Scope,
  slotNames,
  undefinedVariable,
  withScope,
} from './scope.js';
import { showExpr } from './show-expr.js';
import { type Pos, type Source, showPos } from './source.js';
import type { EvalState } from './state.js';
import {
  Attrs,
  type Code,
  Env,
  force,
  forceSlot,
  inlinable,
  joinLists,
  Lambda,
  type LambdaInfo,
  NixFloat,
  NixPath,
  type PosLookup,
  PrimOp,
  Thunk,
  type Value,
} from './value.js';

type Lazy = (env: Env) => Value | Thunk;

/** Code making a thunk of `code`. */
function thunkOf(code: Code): Lazy {
  return (env) => new Thunk(code, env);
}

/** forceSlot for the one value of an Env made by Env.one. */
function forceOne(env: Env, pos: Pos): Value {
  const x = env.a;
  if (!(x instanceof Thunk)) return x;
  const v = x.force(pos);
  if (inlinable(v)) env.a = v;
  return v;
}

/** What findWith gives, looking without evaluating, at a `with` whose set is not evaluated yet. */
const NOT_EVALUATED = Symbol('not evaluated');

/**
 * `name` in the sets of the `with`s at `depths` (innermost first): the attribute's slot, or
 * undefined if none has it. With a position, each set is evaluated as needed (an error there is
 * reported at `pos`); without one, nothing is evaluated: NOT_EVALUATED at a set not evaluated yet.
 */
function findWith(
  env: Env,
  depths: number[],
  name: string,
  pos: Pos | undefined,
): Value | Thunk | undefined | typeof NOT_EVALUATED {
  let x = env;
  let d = 0;
  for (const wd of depths) {
    while (d < wd) {
      x = x.up!;
      d++;
    }
    let attrs = x.a;
    if (pos !== undefined) attrs = forceAttrs(attrs, pos);
    else if (attrs instanceof Thunk) {
      if (attrs.c !== null) return NOT_EVALUATED;
      attrs = attrs.v;
    }
    // Not a set, without evaluating: the lookup that evaluates it reports that.
    if (!(attrs instanceof Attrs)) return NOT_EVALUATED;
    const v = attrs.m.get(name);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** LambdaInfo.body until the body is compiled. */
const NOT_COMPILED: Code = () => null;

export function compileExpr(state: EvalState, src: Source, e: Expr, scope: Scope): Code {
  return new Compiler(state, src).compile(e, scope);
}

class Compiler {
  private lambdaInfos = new Map<Expr, LambdaInfo>();
  /** Compiling inside a deferred body, whose variables were checked when the file loaded. */
  private checked = false;
  constructor(
    private state: EvalState,
    private src: Source,
  ) {}

  private pos(off: number): Pos {
    return { src: this.src, off };
  }

  compile(e: Expr, scope: Scope): Code {
    switch (e.k) {
      case 'int':
      case 'float':
      case 'str':
      case 'path': {
        const v = constValue(e);
        return () => v;
      }
      case 'var':
        return this.compileVar(e.name, e.off, scope);
      case 'curpos': {
        const p = this.pos(e.off);
        return () => this.state.posToAttrs(p);
      }
      case 'concat':
        return this.compileConcat(e.parts, e.forceString, e.off, scope, e.partOffs);
      case 'select':
        return this.compileSelect(e, scope);
      case 'hasattr':
        return this.compileHasAttr(e, scope);
      case 'attrs':
        return this.compileAttrs(e, scope);
      case 'inheritFrom':
        throw new Error('inheritFrom outside of an attribute set');
      case 'list': {
        const elems = e.elems.map((x) => this.lazy(x, scope));
        const n = elems.length;
        if (n === 0) return () => [];
        return (env) => {
          const out = new Array(n);
          for (let i = 0; i < n; i++) out[i] = elems[i]!(env);
          return out;
        };
      }
      case 'lambda':
        return this.compileLambda(e, scope);
      case 'call':
        return this.compileCall(e.f, e.args, e.off, scope);
      case 'let':
        return this.compileLet(e.attrs, e.body, scope);
      case 'with': {
        // Always a thunk, even for a variable already evaluated: Nix 2.8 evaluates a `with`'s
        // expression at the first lookup that needs it, and until then lookups in lazy positions
        // do not look into it (lazyWithVar).
        const attrs = thunkOf(this.compile(e.env, scope));
        const body = this.compile(e.body, withScope(scope));
        return (env) => body(Env.one(env, attrs(env)));
      }
      case 'if': {
        const c = this.compile(e.cond, scope);
        const t = this.compile(e.yes, scope);
        const f = this.compile(e.no, scope);
        const p = this.pos(e.off);
        return (env) => {
          const v = c(env);
          if (v === true) return t(env);
          if (v === false) return f(env);
          throw typeError(v, 'a Boolean', p);
        };
      }
      case 'assert': {
        const c = this.compile(e.cond, scope);
        const body = this.compile(e.body, scope);
        const p = this.pos(e.off);
        const cond = e.cond;
        return (env) => {
          const v = c(env);
          if (v === true) return body(env);
          if (v === false) throw new NixEvalError('ASSERT', `assertion '${showExpr(cond)}' failed`, p);
          throw typeError(v, 'a Boolean', p);
        };
      }
      case 'not': {
        const x = this.compile(e.e, scope);
        const p = this.pos(e.off);
        return (env) => !forceBool(x(env), p);
      }
      case 'neg': {
        const x = this.compile(e.e, scope);
        const p = this.pos(e.off);
        return (env) => {
          const v = x(env);
          if (typeof v === 'number') return v === 0 ? 0 : -v;
          return arith('-', 0, v, p);
        };
      }
      case 'bin':
        return this.compileBin(e.op, e.l, e.r, e.off, scope);
    }
  }

  /** Code producing a value or a thunk, for lazy positions. */
  lazy(e: Expr, scope: Scope): Lazy {
    switch (e.k) {
      case 'int':
      case 'float':
      case 'str':
      case 'path': {
        const v = constValue(e);
        return () => v;
      }
      case 'var': {
        const r = resolve(e.name, scope);
        if (r.kind === 'static') {
          const { depth, index } = r;
          if (r.single) {
            if (depth === 0) return (env) => env.a;
            if (depth === 1) return (env) => env.up!.a;
            return (env) => {
              let x = env;
              for (let d = depth; d > 0; d--) x = x.up!;
              return x.a;
            };
          }
          // A slot of a let/rec being filled may not be set yet: then make a thunk, as Nix does.
          const code = this.compileVar(e.name, e.off, scope);
          // (null is a value here: only a missing slot needs the thunk)
          if (depth === 0)
            return (env) => {
              const v = env.v[index];
              return v !== undefined ? v : new Thunk(code, env);
            };
          if (depth === 1)
            return (env) => {
              const v = env.up!.v[index];
              return v !== undefined ? v : new Thunk(code, env);
            };
          return (env) => {
            let x = env;
            for (let d = depth; d > 0; d--) x = x.up!;
            const v = x.v[index];
            return v !== undefined ? v : new Thunk(code, env);
          };
        }
        return this.lazyWithVar(e.name, e.off, r.withDepths, scope);
      }
    }
    return thunkOf(this.compile(e, scope));
  }

  /**
   * A variable bound only by `with`, in a lazy position, as Nix 2.8's lookup without evaluation
   * finds it: through the `with` sets already evaluated, innermost first, it is the attribute
   * itself (no thunk); at a `with` not evaluated yet (its expression is evaluated by the first
   * lookup that needs a value), it is a thunk; past the outermost, it is undefined at once.
   */
  private lazyWithVar(name: string, off: number, depths: number[], scope: Scope): Lazy {
    // Compiling the strict lookup also refuses a variable that nothing binds.
    const code = this.compileVar(name, off, scope);
    return (env) => {
      const v = findWith(env, depths, name, undefined);
      if (v === NOT_EVALUATED) return new Thunk(code, env);
      if (v === undefined) throw undefinedVariable(name, this.src, off);
      return v;
    };
  }

  /**
   * A formal's default. In a one-slot scope the slot (Env.a) is set only after its default is
   * made, so a default that is that very formal must be a thunk (forcing it is then infinite
   * recursion, as in Nix), not a read of the unset slot.
   */
  private formalDefault(e: Expr, inner: Scope): Lazy {
    if (inner.single && e.k === 'var' && inner.vars?.has(e.name)) return thunkOf(this.compile(e, inner));
    return this.lazy(e, inner);
  }

  private compileVar(name: string, off: number, scope: Scope): Code {
    const r = resolve(name, scope);
    // Where a variable being evaluated is found again: Nix reports the recursion there.
    const p = this.pos(off);
    if (r.kind === 'static') {
      // A thunk read through a variable is replaced in its environment by its value once forced:
      // readers see the same value, and the thunk is no longer kept alive by the environment.
      const { depth, index } = r;
      if (r.single) {
        if (depth === 0) return (env) => forceOne(env, p);
        if (depth === 1) return (env) => forceOne(env.up!, p);
        if (depth === 2) return (env) => forceOne(env.up!.up!, p);
        return (env) => {
          let x = env;
          for (let d = depth; d > 0; d--) x = x.up!;
          return forceOne(x, p);
        };
      }
      if (depth === 0) return (env) => forceSlot(env.v, index, p);
      if (depth === 1) return (env) => forceSlot(env.up!.v, index, p);
      if (depth === 2) return (env) => forceSlot(env.up!.up!.v, index, p);
      return (env) => {
        let x = env;
        for (let d = depth; d > 0; d--) x = x.up!;
        return forceSlot(x.v, index, p);
      };
    }
    if (r.withDepths.length === 0) throw undefinedVariable(name, this.src, off);
    const depths = r.withDepths;
    return (env) => {
      const v = findWith(env, depths, name, p);
      if (v !== undefined) return force(v as Value | Thunk);
      throw undefinedVariable(name, this.src, off);
    };
  }

  private compileConcat(parts: Expr[], forceStr: boolean, off: number, scope: Scope, offs?: number[]): Code {
    const codes = parts.map((x) => this.compile(x, scope));
    const poss = parts.map((x, i) => this.pos(offs?.[i] ?? x.off));
    const p = this.pos(off);
    const state = this.state;
    const restCodes = codes.slice(1);
    const restPoss = poss.slice(1);
    if (!forceStr && codes.length === 2) {
      const [a, b] = codes as [Code, Code];
      return (env) => {
        const x = a(env);
        if (typeof x === 'number') {
          const y = b(env);
          if (typeof y === 'number') {
            const r = x + y;
            if (r <= Number.MAX_SAFE_INTEGER && r >= -Number.MAX_SAFE_INTEGER) return r;
          }
          return concatRest(state, x, [() => y], env, restPoss, p);
        }
        return concatRest(state, x, restCodes, env, restPoss, p, false, poss[0]);
      };
    }
    const first = codes[0]!;
    return (env) => concatRest(state, first(env), restCodes, env, restPoss, p, forceStr, poss[0]);
  }

  private attrNameCode(n: AttrName, scope: Scope): string | Code {
    if ('s' in n) return n.s;
    return this.compile(n.e, scope);
  }

  private compileSelect(e: Expr & { k: 'select' }, scope: Scope): Code {
    const known = this.builtinConst(e, scope);
    if (known !== undefined) return () => known;
    const base = this.compile(e.e, scope);
    const names = e.path.map((n) => this.attrNameCode(n, scope));
    const def = e.def ? this.compile(e.def, scope) : undefined;
    const p = this.pos(e.off);
    if (names.length === 1 && typeof names[0] === 'string' && !def) {
      const name = names[0];
      let guess = 0;
      return (env) => {
        const v = base(env);
        if (v instanceof Attrs) {
          const m = v.m;
          const i = m.indexNear(name, guess);
          if (i < 0) throw missingAttr(name, v, p);
          guess = i;
          const x = m.vals[i]!;
          if (!(x instanceof Thunk)) return x;
          if (x.forced) return x.v;
          let r: Value;
          try {
            r = x.force();
          } catch (err) {
            throw addAttrTrace(err, name, v.pos?.get(name));
          }
          // The set holds the value from now on (see forceSlot).
          if (inlinable(r)) m.vals[i] = r;
          return r;
        }
        throw typeError(v, 'a set', p);
      };
    }
    const staticPath = names.every((n) => typeof n === 'string') ? (names as string[]).join('.') : undefined;
    if (staticPath !== undefined && !def) {
      const path = names as string[];
      return (env) => {
        let v = base(env);
        // The set and name of the last attribute found: its position is only needed on error.
        let foundIn: Attrs | undefined;
        let foundName = '';
        try {
          for (let i = 0; i < path.length; i++) {
            const name = path[i]!;
            if (!(v instanceof Attrs)) throw typeError(v, 'a set', p);
            const j = v.m.indexOf(name);
            if (j < 0) throw missingAttr(name, v, p);
            foundIn = v;
            foundName = name;
            v = forceSlot(v.m.vals, j);
          }
        } catch (err) {
          throw addAttrTrace(err, staticPath, foundIn?.pos?.get(foundName));
        }
        return v;
      };
    }
    return (env) => {
      let v = base(env);
      // The set and name of the last attribute found, for the "while evaluating the attribute"
      // frame: its position is only looked up on error.
      let foundIn: Attrs | undefined;
      let foundName = '';
      const shown: string[] = [];
      try {
        for (const n of names) {
          const name = typeof n === 'string' ? n : forceStringNoCtx(n(env), p);
          if (staticPath === undefined) shown.push(name);
          if (!(v instanceof Attrs)) {
            if (def) return def(env);
            throw typeError(v, 'a set', p);
          }
          const j = v.m.indexOf(name);
          if (j < 0) {
            if (def) return def(env);
            throw missingAttr(name, v, p);
          }
          foundIn = v;
          foundName = name;
          v = forceSlot(v.m.vals, j);
        }
      } catch (err) {
        throw addAttrTrace(err, staticPath ?? shown.join('.'), foundIn?.pos?.get(foundName));
      }
      return v;
    };
  }

  /**
   * `builtins.NAME` where `builtins` is the base environment's (no `let`, argument or scoped
   * import rebinds it; `with` cannot): its value is known when compiling, when it is not a thunk.
   */
  private builtinConst(e: Expr & { k: 'select' }, scope: Scope): Value | undefined {
    if (e.def || e.e.k !== 'var' || e.e.name !== 'builtins' || e.path.length !== 1) return undefined;
    const n = e.path[0]!;
    if (!('s' in n)) return undefined;
    let s: Scope | null = scope;
    while (s !== null && (s.vars === null || !s.vars.has('builtins'))) s = s.parent;
    if (s !== this.state.baseScope) return undefined;
    const v = this.state.builtins.m.get(n.s);
    return v === undefined || v instanceof Thunk ? undefined : v;
  }

  private compileHasAttr(e: Expr & { k: 'hasattr' }, scope: Scope): Code {
    const base = this.compile(e.e, scope);
    const names = e.path.map((n) => this.attrNameCode(n, scope));
    const p = this.pos(e.off);
    if (names.length === 1 && typeof names[0] === 'string') {
      const name = names[0];
      let guess = 0;
      return (env) => {
        const v = base(env);
        if (!(v instanceof Attrs)) return false;
        const i = v.m.indexNear(name, guess);
        if (i < 0) return false;
        guess = i;
        return true;
      };
    }
    return (env) => {
      let v = base(env);
      for (let i = 0; i < names.length; i++) {
        const n = names[i]!;
        // A dynamic name is evaluated even when the value is not a set, as in Nix 2.8.
        const name = typeof n === 'string' ? n : forceStringNoCtx(n(env), p);
        if (!(v instanceof Attrs)) return false;
        const x = v.m.get(name);
        if (x === undefined) return false;
        if (i < names.length - 1) v = force(x);
      }
      return true;
    };
  }

  private compileAttrs(e: AttrsExpr, scope: Scope): Code {
    // Sorted once here: the Bindings of every instance share this names array.
    const names = slotNames(e, true);
    const posMap = new AttrsPos(this.src, e.attrs, e.at === undefined ? undefined : this.pos(e.at));
    const inner = e.rec ? bindingsScope(names, scope) : scope;
    const srcs = e.inheritFrom.map((x) => this.compile(x, inner));
    // With __overrides every non-inherited attribute is a thunk, so overriding its slot takes effect.
    const hasOverrides = e.rec && e.attrs.has('__overrides');
    const values = names.map((n) => this.slotDef(n, e.attrs.get(n)!, scope, inner, hasOverrides));
    const dyn: DynDef[] = e.dyn.map((d) => ({
      name: this.compile(d.name, inner),
      value: this.lazy(d.e, inner),
      pos: this.pos(d.off),
    }));
    const plan = new AttrsPlan(names, values, srcs, dyn, posMap, e.rec, hasOverrides);
    const n = names.length;
    if (!e.rec) return (env) => plan.build(env, env, new Array(n));
    return (env) => {
      const slots: (Value | Thunk)[] = new Array(n);
      return plan.build(env, new Env(env, slots), slots);
    };
  }

  /**
   * How the slot of binding `name` (a set's or a `let`'s) is filled: `inherit (src) name` selects
   * from a source, `inherit name` reads the outer scope, the rest runs in the inner one (always as
   * a thunk when `thunked`, which `__overrides` needs).
   */
  private slotDef(name: string, d: AttrDef, outer: Scope, inner: Scope, thunked: boolean): SlotDef {
    if (d.e.k === 'inheritFrom')
      return { from: d.e.index, name: d.e.name, outer: false, code: undefined, pos: this.pos(d.e.off) };
    if (d.inherit === 'scope') return { from: -1, name, outer: true, code: this.lazy(d.e, outer) };
    const code = thunked ? thunkOf(this.compile(d.e, inner)) : this.lazy(d.e, inner);
    return { from: -1, name, outer: false, code };
  }

  private compileLet(attrs: AttrsExpr, bodyExpr: Expr, scope: Scope): Code {
    const names = slotNames(attrs, false);
    const inner = bindingsScope(names, scope);
    const srcs = attrs.inheritFrom.map((x) => this.compile(x, inner));
    const values = names.map((n) => this.slotDef(n, attrs.attrs.get(n)!, scope, inner, false));
    const body = this.compile(bodyExpr, inner);
    const n = names.length;
    return (env) => {
      const slots: (Value | Thunk)[] = new Array(n);
      const env2 = new Env(env, slots);
      fillSlots(
        values,
        srcs.length === 0 ? undefined : srcs.map((c) => new Thunk(c, env2)),
        slots,
        env,
        env2,
      );
      return body(env2);
    };
  }

  private compileLambda(e: Expr & { k: 'lambda' }, scope: Scope): Code {
    const { inner, nslots } = lambdaScope(e, scope);
    const info: LambdaInfo = {
      name: e.name,
      pos: this.pos(e.off),
      arg: e.arg,
      formals: e.formals
        ? {
            names: e.formals.list.map((f) => f.name),
            defaults: e.formals.list.map((f) => (f.def ? this.formalDefault(f.def, inner) : undefined)),
            ellipsis: e.formals.ellipsis,
            pos: e.formals.list.map((f) => this.pos(f.off)),
            guess: e.formals.list.map(() => 0),
          }
        : undefined,
      body: NOT_COMPILED,
      nslots,
    };
    const b = e.body;
    if (b.k === 'lambda' && b.formals === undefined) {
      // `x: y: …`: the inner function now, so that calls with both arguments can skip it.
      info.body = this.compile(b, inner);
      info.curried = this.lambdaInfos.get(b);
    } else info.body = this.deferredBody(b, inner, info);
    this.lambdaInfos.set(e, info);
    return (env) => new Lambda(info, env);
  }

  /**
   * A function body compiled when the function is first called: most functions of a file (a
   * library's) are never called in a given evaluation. Its variables are checked now (unless it
   * lies in a body checked already), so an unbound one is still an error when the file loads.
   */
  private deferredBody(body: Expr, inner: Scope, info: LambdaInfo): Code {
    if (!this.checked) checkVariables(body, inner, this.src);
    return (env) => {
      const outer = this.checked;
      this.checked = true;
      let code: Code;
      try {
        code = this.compile(body, inner);
      } finally {
        this.checked = outer;
      }
      info.body = code;
      return code(env);
    };
  }

  private compileCall(fe: Expr, argEs: Expr[], off: number, scope: Scope): Code {
    // The function first: its undefined variables are reported before the arguments'.
    const f = this.compile(fe, scope);
    const args = argEs.map((a) => this.lazy(a, scope));
    const p = this.pos(off);
    const known = fe.k === 'select' ? this.builtinConst(fe, scope) : undefined;
    if (known instanceof PrimOp && known.arity === args.length) {
      // `builtins.f x …` with all its arguments: a direct call.
      const fn = known.fn;
      if (args.length === 1) {
        const a0 = args[0]!;
        return (env) => fn([a0(env)], p);
      }
      if (args.length === 2) {
        const [a0, a1] = args as [Lazy, Lazy];
        return (env) => fn([a0(env), a1(env)], p);
      }
    }
    if (args.length === 1) {
      const a0 = args[0]!;
      return (env) => {
        const fv = f(env);
        return fv instanceof Lambda ? callClosure(fv.info, fv.env, a0(env), p) : callFunction(fv, a0(env), p);
      };
    }
    if (args.length === 2) {
      const [a0, a1] = args as [Lazy, Lazy];
      return (env) => call2(f(env), a0(env), a1(env), p);
    }
    const n = args.length;
    return (env) => {
      let v = f(env);
      let i = 0;
      // Pairs of arguments to curried lambdas (`x: y: …`) skip the intermediate function value.
      for (; i + 1 < n; i += 2) v = call2(v, args[i]!(env), args[i + 1]!(env), p);
      if (i < n) v = callFunction(v, args[i]!(env), p);
      return v;
    };
  }

  private compileBin(op: string, le: Expr, re: Expr, off: number, scope: Scope): Code {
    // `a > b` and `a <= b` are calls of `__lessThan b a` in Nix 2.8, which binds (and reports
    // undefined) the right operand's variables first.
    const swapped = op === '>' || op === '<=';
    const r0 = swapped ? this.compile(re, scope) : undefined;
    const l = this.compile(le, scope);
    const r = r0 ?? this.compile(re, scope);
    const p = this.pos(off);
    switch (op) {
      case '==':
        return (env) => {
          const a = l(env);
          const b = r(env);
          if (typeof a === 'string' && typeof b === 'string') return a === b;
          return eqValues(a, b, p);
        };
      case '!=':
        return (env) => {
          const a = l(env);
          const b = r(env);
          if (typeof a === 'string' && typeof b === 'string') return a !== b;
          return !eqValues(a, b, p);
        };
      case '<':
        return (env) => {
          const a = l(env);
          const b = r(env);
          if (typeof a === 'number' && typeof b === 'number') return a < b;
          return lessThan(a, b, p);
        };
      // `a > b` and `a <= b` are `b < a` (negated) in Nix 2.8: the right operand is evaluated first.
      case '>':
        return (env) => {
          const b = r(env);
          const a = l(env);
          if (typeof a === 'number' && typeof b === 'number') return a > b;
          return lessThan(b, a, p);
        };
      case '<=':
        return (env) => {
          const b = r(env);
          const a = l(env);
          if (typeof a === 'number' && typeof b === 'number') return a <= b;
          return !lessThan(b, a, p);
        };
      case '>=':
        return (env) => {
          const a = l(env);
          const b = r(env);
          if (typeof a === 'number' && typeof b === 'number') return a >= b;
          return !lessThan(a, b, p);
        };
      case '&&':
      case '||': {
        // The left operand decides alone when it is false (&&) or true (||).
        const decides = op === '||';
        return (env) => {
          const a = l(env);
          if (a === decides) return a;
          if (typeof a !== 'boolean') throw typeError(a, 'a Boolean', p);
          const b = r(env);
          if (typeof b === 'boolean') return b;
          throw typeError(b, 'a Boolean', p);
        };
      }
      case '->':
        return (env) => !forceBool(l(env), p) || forceBool(r(env), p);
      case '//':
        return (env) => updateAttrs(forceAttrs(l(env), p), forceAttrs(r(env), p));
      case '++':
        // Both operands are evaluated before either is checked to be a list, as in Nix 2.8.
        return (env) => {
          const x = l(env);
          const y = r(env);
          const a = forceList(x, p);
          const b = forceList(y, p);
          if (a.length === 0) return b;
          if (b.length === 0) return a;
          return joinLists(a, b);
        };
      case '-':
        return (env) => {
          const a = l(env);
          const b = r(env);
          if (typeof a === 'number' && typeof b === 'number') {
            const x = a - b;
            if (x <= Number.MAX_SAFE_INTEGER && x >= -Number.MAX_SAFE_INTEGER) return x;
            return intSub(a, b);
          }
          return arith('-', a, b, p);
        };
      case '*':
        return (env) => arith('*', l(env), r(env), p);
      case '/':
        return (env) => arith('/', l(env), r(env), p);
    }
    throw new Error(`unknown operator ${op}`);
  }
}

/** A dynamic attribute of a set: code for its name and its value. */
interface DynDef {
  name: Code;
  value: Lazy;
  pos: Pos;
}

/** A compiled set: builds its instances. */
class AttrsPlan {
  constructor(
    /** Sorted: the Bindings of every instance share this names array. */
    private names: string[],
    private values: SlotDef[],
    /** The sources of `inherit (…)`. */
    private srcs: Code[],
    private dyn: DynDef[],
    private posMap: PosLookup,
    private rec: boolean,
    /** With __overrides every non-inherited attribute is a thunk (see compileAttrs). */
    private hasOverrides: boolean,
  ) {}

  /** An instance, whose slots (`slots`, filled here) the code of a `rec` set sees in `env`. */
  build(outer: Env, env: Env, slots: (Value | Thunk)[]): Attrs {
    const { names, dyn, posMap } = this;
    const srcs = this.srcs.length === 0 ? undefined : this.srcs.map((c) => new Thunk(c, env));
    fillSlots(this.values, srcs, slots, outer, env);
    if (!this.hasOverrides && dyn.length === 0) return new Attrs(names, slots, posMap);
    // With overrides the rec env keeps its own slots; the set gets copies that the overrides change.
    const m = this.hasOverrides
      ? new Attrs(names.slice(), slots.slice(), posMap)
      : new Attrs(names, slots, posMap);
    if (this.hasOverrides) applyOverrides(m, this.rec ? slots : undefined, names);
    // Dynamic attributes in order (name, then value), merged into the others at once.
    const dn: string[] = [];
    const dv: (Value | Thunk)[] = [];
    const dp: Pos[] = [];
    for (const d of dyn) {
      const nv = d.name(env);
      if (nv === null) continue;
      const name = forceStringNoCtx(nv, d.pos);
      const earlier = dn.indexOf(name);
      if (earlier >= 0 || m.has(name)) {
        const prev = earlier >= 0 ? dp[earlier] : posMap.get(name);
        const where = prev ? ` at ${showPos(prev)}` : '';
        throw new NixEvalError(
          'DUPLICATE_ATTR',
          `dynamic attribute '${name}' already defined${where}`,
          d.pos,
        );
      }
      dn.push(name);
      dv.push(d.value(env));
      dp.push(d.pos);
    }
    if (dn.length === 0) return m;
    const order = sortOrder(dn);
    const added = new Bindings(permute(dn, order), permute(dv, order));
    // Positions look up the dynamic names in their own (unsorted) order.
    const set = m.size === 0 ? Attrs.from(added) : Attrs.update(m, added);
    set.pos = new DynamicPos(posMap, dn, dp);
    return set;
  }
}

/** Positions of a set's static attributes, made from their definitions when asked for. */
class AttrsPos implements PosLookup {
  /** The positions, made on the first lookup (derivationStrict looks up every attribute's). */
  private poss: Map<string, Pos> | undefined;
  constructor(
    private src: Source,
    private defs: Map<string, AttrDef>,
    readonly at: Pos | undefined,
  ) {}
  get(name: string): Pos | undefined {
    if (this.poss === undefined) {
      this.poss = new Map();
      for (const [n, d] of this.defs) this.poss.set(n, { src: this.src, off: d.off });
    }
    return this.poss.get(name);
  }
}

/** Attribute positions of a set with dynamic attributes: the static ones', then the dynamic ones'. */
class DynamicPos implements PosLookup {
  readonly at: Pos | undefined;
  constructor(
    private base: PosLookup,
    private names: string[],
    private poss: Pos[],
  ) {
    this.at = base.at;
  }
  get(name: string): Pos | undefined {
    const p = this.base.get(name);
    if (p !== undefined) return p;
    const i = this.names.indexOf(name);
    return i < 0 ? undefined : this.poss[i];
  }
}

/** `rec { __overrides = { … }; }`: the overriding values replace attributes and their rec slots. */
function applyOverrides(m: Bindings, slots: (Value | Thunk)[] | undefined, names: string[]): void {
  const overrides = forceAttrs(m.get('__overrides')!);
  for (const [k, v] of overrides.m) {
    m.set(k, v);
    const i = names.indexOf(k);
    if (i >= 0 && slots) slots[i] = v;
  }
}

function constValue(e: Expr): Value {
  switch (e.k) {
    case 'int':
      return e.v;
    case 'float':
      return new NixFloat(e.v);
    case 'str':
      return e.v;
    case 'path':
      return new NixPath(e.v);
  }
  throw new Error('not a constant');
}

/** One binding of a set or `let`: `inherit (sources[from]) name`, or code run in the outer or inner env. */
interface SlotDef {
  from: number;
  /** Where a missing inherited attribute is reported. */
  pos?: Pos;
  name: string;
  outer: boolean;
  code: ((env: Env) => Value | Thunk) | undefined;
}

/**
 * Fills the slots of a set or `let`: names inherited from a source become thunks selecting the
 * name from it (an error at the lookup's position when it is missing), the rest run their code.
 */
function fillSlots(
  values: SlotDef[],
  sources: Thunk[] | undefined,
  slots: (Value | Thunk)[],
  outer: Env,
  inner: Env,
): void {
  for (let i = 0; i < values.length; i++) {
    const d = values[i]!;
    if (d.code === undefined) {
      const src = sources![d.from]!;
      const name = d.name;
      const p = d.pos!;
      slots[i] = new Thunk(() => {
        const a = forceAttrs(src, p);
        const x = a.m.get(name);
        if (x === undefined) throw missingAttr(name, a, p);
        if (!(x instanceof Thunk)) return x;
        try {
          return x.force();
        } catch (err) {
          // As a selection of the name from the source (which `inherit (src) name` is in Nix).
          throw addAttrTrace(err, name, a.pos?.get(name));
        }
      }, null);
    } else slots[i] = d.code(d.outer ? outer : inner);
  }
}
