// Value printing as `nix-instantiate --eval` 2.8 does it: thunks print <CODE>, functions <LAMBDA>,
// built-ins <PRIMOP>/<PRIMOP-APP>, a non-empty set or list printed a second time «repeated».
export { printAttrName, printString } from './text/strings.js';

import { formatFloat } from './text/float.js';
import { printAttrName, printString } from './text/strings.js';
import { Attrs, Lambda, NixFloat, NixPath, NixStr, PrimOp, PrimOpApp, Thunk, type Value } from './value.js';

export function printValue(v: Value | Thunk, opts: { strict: boolean }): string {
  const parts: string[] = [];
  const seen = new Set<object>();
  // Nix 2.8 marks a list as seen by where its elements are stored: a list of one or two inside its
  // Value slot (here the thunk holding it, or the list), a longer one in an array that copies of
  // the value share (here the list); a set by its bindings (the Attrs object).
  const go = (t: Value | Thunk): void => {
    let x: Value;
    if (t instanceof Thunk) {
      if (!t.forced) {
        parts.push('<CODE>');
        return;
      }
      x = t.v;
    } else x = t;
    const slot: object = t instanceof Thunk && Array.isArray(x) && x.length < 3 ? t : (x as object);
    if (typeof x === 'number' || typeof x === 'bigint') parts.push(String(x));
    else if (typeof x === 'string') parts.push(printString(x));
    else if (typeof x === 'boolean') parts.push(x ? 'true' : 'false');
    else if (x === null) parts.push('null');
    else if (x instanceof NixStr) parts.push(printString(x.s));
    else if (x instanceof NixFloat) parts.push(formatFloat(x.v));
    else if (x instanceof NixPath) parts.push(x.p);
    else if (Array.isArray(x)) {
      if (x.length > 0 && seen.has(slot)) {
        parts.push('\xc2\xabrepeated\xc2\xbb');
        return;
      }
      seen.add(slot);
      parts.push('[ ');
      for (const e of x) {
        go(e);
        parts.push(' ');
      }
      parts.push(']');
    } else if (x instanceof Attrs) {
      if (x.m.size > 0 && seen.has(x)) {
        parts.push('\xc2\xabrepeated\xc2\xbb');
        return;
      }
      seen.add(x);
      parts.push('{ ');
      const { names, vals } = x.m;
      for (let i = 0; i < names.length; i++) {
        parts.push(printAttrName(names[i]!), ' = ');
        go(vals[i]!);
        parts.push('; ');
      }
      parts.push('}');
    } else if (x instanceof Lambda) parts.push('<LAMBDA>');
    else if (x instanceof PrimOp) parts.push('<PRIMOP>');
    else if (x instanceof PrimOpApp) parts.push('<PRIMOP-APP>');
  };
  void opts;
  go(v);
  return parts.join('');
}
