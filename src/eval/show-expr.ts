// An expression written back as Nix 2.8 shows a parsed expression (its Expr::show), which is the
// text of a failed assertion: `assertion '(x == 1)' failed`. Nix shows its own desugared tree, so
// `a - b` is `(__sub a b)`, `a > b` is `(__lessThan b a)`, `-x` is `(__sub 0 x)`, and a call
// whose function is itself a call (`(f a) b`) is one call `(f a b)`, as its parser merges them.
// A set's attributes show sorted by name. A let's bindings and a function's formals show in
// source order; Nix 2.8 orders those by symbol creation, which differs only where a name was
// already known before (`{ zz, name }: …` shows as `{ name, zz }: …` there).
import type { AttrName, AttrsExpr, Expr } from './ast.js';
import { formatFloat } from './text/float.js';
import { printAttrName, printParsedString } from './text/strings.js';

export function showExpr(e: Expr): string {
  const out: string[] = [];
  show(e, out);
  return out.join('');
}

/** The operators Nix 2.8 keeps as operators (the others become calls of builtins). */
const KEPT_OPS = new Set(['==', '!=', '&&', '||', '->', '//', '++']);

function show(e: Expr, out: string[]): void {
  switch (e.k) {
    case 'int':
      out.push(String(e.v));
      return;
    case 'float':
      out.push(formatFloat(e.v));
      return;
    case 'str':
      if (e.shown) show(e.shown, out);
      else out.push(printParsedString(e.v));
      return;
    case 'path':
      out.push(e.v);
      return;
    case 'concat': {
      if (e.shown) {
        show(e.shown, out);
        return;
      }
      out.push('(');
      e.parts.forEach((p, i) => {
        if (i > 0) out.push(' + ');
        show(p, out);
      });
      out.push(')');
      return;
    }
    case 'var':
      out.push(printAttrName(e.name));
      return;
    case 'curpos':
      out.push('__curPos');
      return;
    case 'select':
      out.push('(');
      show(e.e, out);
      out.push(').', showAttrPath(e.path));
      if (e.def) {
        out.push(' or (');
        show(e.def, out);
        out.push(')');
      }
      return;
    case 'hasattr':
      out.push('((');
      show(e.e, out);
      out.push(') ? ', showAttrPath(e.path), ')');
      return;
    case 'attrs':
      showAttrs(e, out);
      return;
    case 'inheritFrom':
      // Only reached inside a set or let, which show it with its source.
      out.push(printAttrName(e.name));
      return;
    case 'list':
      out.push('[ ');
      for (const x of e.elems) {
        out.push('(');
        show(x, out);
        out.push(') ');
      }
      out.push(']');
      return;
    case 'lambda': {
      out.push('(');
      if (e.formals) {
        out.push('{ ');
        e.formals.list.forEach((f, i) => {
          if (i > 0) out.push(', ');
          out.push(printAttrName(f.name));
          if (f.def) {
            out.push(' ? ');
            show(f.def, out);
          }
        });
        if (e.formals.ellipsis) out.push(e.formals.list.length > 0 ? ', ...' : '...');
        out.push(' }');
        if (e.arg !== undefined) out.push(' @ ');
      }
      if (e.arg !== undefined) out.push(printAttrName(e.arg));
      out.push(': ');
      show(e.body, out);
      out.push(')');
      return;
    }
    case 'let':
      out.push('(let ');
      for (const [name, d] of e.attrs.attrs) {
        if (d.inherit === 'scope') out.push('inherit ', printAttrName(name), '; ');
        else {
          out.push(printAttrName(name), ' = ');
          showBinding(d.e, e.attrs, out);
          out.push('; ');
        }
      }
      out.push('in ');
      show(e.body, out);
      out.push(')');
      return;
    case 'with':
      out.push('(with ');
      show(e.env, out);
      out.push('; ');
      show(e.body, out);
      out.push(')');
      return;
    case 'if':
      out.push('(if ');
      show(e.cond, out);
      out.push(' then ');
      show(e.yes, out);
      out.push(' else ');
      show(e.no, out);
      out.push(')');
      return;
    case 'assert':
      out.push('assert ');
      show(e.cond, out);
      out.push('; ');
      show(e.body, out);
      return;
    case 'not':
      out.push('(! ');
      show(e.e, out);
      out.push(')');
      return;
    case 'bin':
      if (KEPT_OPS.has(e.op)) {
        out.push('(');
        show(e.l, out);
        out.push(` ${e.op} `);
        show(e.r, out);
        out.push(')');
        return;
      }
      if (e.op === '<=' || e.op === '>=') {
        // a <= b is !(b < a), a >= b is !(a < b).
        out.push('(! ');
        showCall(e, out);
        out.push(')');
        return;
      }
      showCall(e, out);
      return;
    case 'neg':
    case 'call':
      showCall(e, out);
      return;
  }
}

/**
 * The function and arguments of an expression Nix 2.8 parses as a call, if it is one. `a <= b`
 * is a negated call: its call part when shown itself (`top`), not a call to merge into.
 */
function asCall(e: Expr, top: boolean): { f: Expr; args: Expr[] } | undefined {
  switch (e.k) {
    case 'call':
      return { f: e.f, args: e.args };
    case 'neg':
      return { f: builtin('__sub', e.off), args: [{ k: 'int', off: e.off, v: 0 }, e.e] };
    case 'bin':
      switch (e.op) {
        case '-':
          return { f: builtin('__sub', e.off), args: [e.l, e.r] };
        case '*':
          return { f: builtin('__mul', e.off), args: [e.l, e.r] };
        case '/':
          return { f: builtin('__div', e.off), args: [e.l, e.r] };
        case '<':
          return { f: builtin('__lessThan', e.off), args: [e.l, e.r] };
        case '>':
          return { f: builtin('__lessThan', e.off), args: [e.r, e.l] };
        case '>=':
          return top ? { f: builtin('__lessThan', e.off), args: [e.l, e.r] } : undefined;
        case '<=':
          return top ? { f: builtin('__lessThan', e.off), args: [e.r, e.l] } : undefined;
      }
  }
  return undefined;
}

const builtin = (name: string, off: number): Expr => ({ k: 'var', off, name });

/** `(f a b)`, with the arguments of calls in function position merged in first. */
function showCall(e: Expr, out: string[]): void {
  const chain: Expr[][] = [];
  let f: Expr = e;
  for (let c = asCall(e, true); c; c = asCall(f, false)) {
    chain.push(c.args);
    f = c.f;
  }
  out.push('(');
  show(f, out);
  for (let i = chain.length - 1; i >= 0; i--) {
    for (const a of chain[i]!) {
      out.push(' ');
      show(a, out);
    }
  }
  out.push(')');
}

function showAttrPath(path: AttrName[]): string {
  return path.map((p) => ('s' in p ? printAttrName(p.s) : `"\${${showExpr(p.e)}}"`)).join('.');
}

/** A binding's value; `inherit (src) x` shows as `x = (src).x`. */
function showBinding(e: Expr, owner: AttrsExpr, out: string[]): void {
  if (e.k !== 'inheritFrom') {
    show(e, out);
    return;
  }
  out.push('(');
  show(owner.inheritFrom[e.index]!, out);
  out.push(').', printAttrName(e.name));
}

function showAttrs(e: AttrsExpr, out: string[]): void {
  if (e.rec) out.push('rec ');
  out.push('{ ');
  const names = [...e.attrs.keys()].sort();
  for (const name of names) {
    const d = e.attrs.get(name)!;
    if (d.inherit === 'scope') out.push('inherit ', printAttrName(name), ' ; ');
    else {
      out.push(printAttrName(name), ' = ');
      showBinding(d.e, e, out);
      out.push('; ');
    }
  }
  for (const d of e.dyn) {
    out.push('"${');
    show(d.name, out);
    out.push('}" = ');
    show(d.e, out);
    out.push('; ');
  }
  out.push('}');
}
