// Compile-time scopes and the check that every variable of an expression is bound. The compiler
// (compile.ts) resolves variables to (depth, slot) pairs through these scopes; a function body is
// only compiled when the function is first called, but its variables are checked when the file
// is loaded, so that an undefined variable anywhere in a file is an error on import, as in Nix.
import type { AttrsExpr, Expr } from './ast.js';
import { NixEvalError } from './errors.js';
import type { Source } from './source.js';

/** A compile-time scope: names → slots, or a `with` (vars null). */
export interface Scope {
  vars: Map<string, number> | null;
  parent: Scope | null;
  /** The scope's one value is in Env.a (a simple argument, a `with` set), not in Env.v. */
  single?: boolean;
}

export type Resolution =
  | { kind: 'static'; depth: number; index: number; single: boolean }
  | { kind: 'dynamic'; withDepths: number[] };

export function resolve(name: string, scope: Scope | null): Resolution {
  let depth = 0;
  let withDepths: number[] | undefined;
  for (let s = scope; s; s = s.parent, depth++) {
    if (s.vars === null) {
      withDepths ??= [];
      withDepths.push(depth);
      continue;
    }
    const index = s.vars.get(name);
    if (index !== undefined) return { kind: 'static', depth, index, single: s.single === true };
  }
  return { kind: 'dynamic', withDepths: withDepths ?? [] };
}

export function undefinedVariable(name: string, src: Source, off: number): NixEvalError {
  return new NixEvalError('UNDEFINED_VAR', `undefined variable '${name}'`, { src, off });
}

/** The scope of a function's body: its formals (in order), then its `@` or plain argument. */
export function lambdaScope(e: Expr & { k: 'lambda' }, scope: Scope): { inner: Scope; nslots: number } {
  const vars = new Map<string, number>();
  const formalNames = e.formals ? e.formals.list.map((f) => f.name) : [];
  for (const [i, n] of formalNames.entries()) vars.set(n, i);
  if (e.arg !== undefined) vars.set(e.arg, e.formals ? formalNames.length : 0);
  const nslots = formalNames.length + (e.arg !== undefined && e.formals ? 1 : 0);
  return { inner: { vars, parent: scope, single: e.formals === undefined || nslots === 1 }, nslots };
}

/** The scope of a `rec { … }` set's or a `let`'s bindings: its names in the given order. */
export function bindingsScope(names: string[], scope: Scope): Scope {
  return { vars: new Map(names.map((n, i) => [n, i])), parent: scope };
}

/** The scope of a `with` body: its one value (the set) in Env.a, looked up by name at run time. */
export function withScope(scope: Scope): Scope {
  return { vars: null, parent: scope, single: true };
}

/** A `rec` set's or `let`'s names in slot order: sorted for sets, as written for `let`. */
export function slotNames(e: AttrsExpr, sorted: boolean): string[] {
  const names = [...e.attrs.keys()];
  return sorted ? names.sort() : names;
}

/**
 * Throws the error for the first unbound variable of `e` in `scope`, visiting subexpressions in
 * the order the compiler compiles them (so the error is the one eager compilation would give).
 */
export function checkVariables(e: Expr, scope: Scope, src: Source): void {
  const check = (x: Expr, s: Scope): void => checkVariables(x, s, src);
  switch (e.k) {
    case 'int':
    case 'float':
    case 'str':
    case 'path':
    case 'curpos':
      return;
    case 'var': {
      const r = resolve(e.name, scope);
      if (r.kind === 'dynamic' && r.withDepths.length === 0) throw undefinedVariable(e.name, src, e.off);
      return;
    }
    case 'concat':
      for (const p of e.parts) check(p, scope);
      return;
    case 'select':
    case 'hasattr':
      check(e.e, scope);
      for (const n of e.path) if ('e' in n) check(n.e, scope);
      if (e.k === 'select' && e.def) check(e.def, scope);
      return;
    case 'attrs': {
      const inner = e.rec ? bindingsScope(slotNames(e, true), scope) : scope;
      checkBindings(e, scope, inner, src, true);
      for (const d of e.dyn) {
        check(d.name, inner);
        check(d.e, inner);
      }
      return;
    }
    case 'inheritFrom':
      return;
    case 'list':
      for (const x of e.elems) check(x, scope);
      return;
    case 'lambda': {
      const { inner } = lambdaScope(e, scope);
      for (const f of e.formals?.list ?? []) if (f.def) check(f.def, inner);
      check(e.body, inner);
      return;
    }
    case 'call':
      check(e.f, scope);
      for (const a of e.args) check(a, scope);
      return;
    case 'let': {
      const inner = bindingsScope(slotNames(e.attrs, false), scope);
      checkBindings(e.attrs, scope, inner, src, false);
      check(e.body, inner);
      return;
    }
    case 'with':
      check(e.env, scope);
      check(e.body, withScope(scope));
      return;
    case 'if':
      check(e.cond, scope);
      check(e.yes, scope);
      check(e.no, scope);
      return;
    case 'assert':
      check(e.cond, scope);
      check(e.body, scope);
      return;
    case 'not':
    case 'neg':
      check(e.e, scope);
      return;
    case 'bin':
      check(e.l, scope);
      check(e.r, scope);
      return;
  }
}

/** The `inherit (…)` sources, then each binding in slot order (as compileAttrs and compileLet). */
function checkBindings(e: AttrsExpr, outer: Scope, inner: Scope, src: Source, sorted: boolean): void {
  for (const x of e.inheritFrom) checkVariables(x, inner, src);
  for (const n of slotNames(e, sorted)) {
    const d = e.attrs.get(n)!;
    if (d.e.k === 'inheritFrom') continue;
    checkVariables(d.e, d.inherit === 'scope' ? outer : inner, src);
  }
}
