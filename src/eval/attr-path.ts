// -A attribute paths and automatic function calls (--arg/--argstr), as nix-instantiate does them:
// findAlongAttrPath and autoCallFunction.
import { withSuggestions } from './attr-errors.js';
import { NixEvalError } from './errors.js';
import { callFunction } from './ops.js';
import { Attrs, force, Lambda, showType, type Thunk, type Value } from './value.js';

/** Splits "a.b.\"c.d\".0" into ["a", "b", "c.d", "0"]. */
export function parseAttrPath(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '.') {
      out.push(cur);
      cur = '';
    } else if (c === '"') {
      i++;
      while (i < s.length && s[i] !== '"') cur += s[i++];
      if (i >= s.length)
        throw new NixEvalError('ATTR_PATH', `missing closing quote in selection path '${s}'`);
    } else cur += c;
  }
  out.push(cur);
  return s === '' ? [] : out;
}

/** Calls a function with the auto-arguments its formals ask for; other values are returned as is. */
export function autoCallFunction(args: Attrs, t: Value | Thunk): Value {
  const f = force(t);
  if (f instanceof Attrs) {
    const functor = f.m.get('__functor');
    if (functor === undefined) return f;
    return autoCallFunction(args, callFunction(force(functor), f));
  }
  if (!(f instanceof Lambda) || f.info.formals === undefined) return f;
  const formals = f.info.formals;
  const m = new Map<string, Value | Thunk>();
  if (formals.ellipsis) for (const [k, v] of args.m) m.set(k, v);
  else {
    formals.names.forEach((n, i) => {
      const v = args.m.get(n);
      if (v !== undefined) m.set(n, v);
      else if (formals.defaults[i] === undefined) {
        throw new NixEvalError(
          'MISSING_ARG',
          `cannot evaluate a function that has an argument without a value ('${n}')\n\n       Nix attempted to evaluate a function as a top level expression; in\n       this case it must have its arguments supplied either by default\n       values, or passed explicitly with '--arg' or '--argstr'. See\n       https://nixos.org/manual/nix/stable/expressions/language-constructs.html#functions.`,
          f.info.pos,
        );
      }
    });
  }
  return callFunction(f, Attrs.from(m));
}

export function findAlongAttrPath(path: string, args: Attrs, root: Value | Thunk): Value {
  let v: Value = force(root);
  for (const name of parseAttrPath(path)) {
    v = autoCallFunction(args, v);
    const index = /^[0-9]+$/.test(name) ? Number(name) : undefined;
    if (index !== undefined) {
      if (!Array.isArray(v)) {
        throw new NixEvalError(
          'ATTR_PATH',
          `the expression selected by the selection path '${path}' should be a list but is ${showType(v)}`,
        );
      }
      if (index >= v.length)
        throw new NixEvalError(
          'ATTR_PATH',
          `list index ${index} in selection path '${path}' is out of range`,
        );
      v = force(v[index]!);
    } else {
      if (!(v instanceof Attrs)) {
        throw new NixEvalError(
          'ATTR_PATH',
          `the expression selected by the selection path '${path}' should be a set but is ${showType(v)}`,
        );
      }
      const x = v.m.get(name);
      if (x === undefined)
        throw withSuggestions(
          new NixEvalError('ATTR_PATH', `attribute '${name}' in selection path '${path}' not found`),
          v.m.keys(),
          name,
        );
      v = force(x);
    }
  }
  return v;
}
