// coerceToString with Nix 2.8's rules: strings keep their context, paths are copied to the store
// (adding the store path to the context) unless copyToStore is off, sets go through __toString or
// outPath; with coerceMore also booleans, null, numbers and lists (space-separated).
import { NixEvalError } from './errors.js';
import { callFunction } from './ops.js';
import { canonPath } from './paths.js';
import type { Pos } from './source.js';
import type { EvalState } from './state.js';
import { floatToString } from './text/float.js';
import { Attrs, force, forceSlot, NixFloat, NixPath, NixStr, showType, Thunk, type Value } from './value.js';

export interface CoerceOptions {
  copyToStore: boolean;
  canonicalizePath?: boolean;
  coerceMore?: boolean;
}

export function coerceToString(
  state: EvalState,
  t: Value | Thunk,
  ctx: Set<string>,
  opts: CoerceOptions,
  pos?: Pos,
): string {
  const v = t instanceof Thunk ? t.force(pos) : t;
  if (typeof v === 'string') return v;
  if (v instanceof NixStr) {
    v.addContextTo(ctx);
    return v.s;
  }
  if (v instanceof NixPath) {
    const p = opts.canonicalizePath === false ? v.p : canonPath(v.p);
    if (!opts.copyToStore) return p;
    const sp = state.copyPathToStore(p, pos);
    ctx.add(sp);
    return sp;
  }
  if (v instanceof Attrs) {
    const ts = v.m.get('__toString');
    if (ts !== undefined) {
      const r = callFunction(force(ts), v, pos);
      return coerceToString(state, r, ctx, opts, pos);
    }
    const out = v.m.get('outPath');
    if (out !== undefined) return coerceToString(state, out, ctx, opts, pos);
    throw new NixEvalError('TYPE', 'cannot coerce a set to a string', pos);
  }
  if (opts.coerceMore) {
    if (v === true) return '1';
    if (v === false || v === null) return '';
    if (typeof v === 'number' || typeof v === 'bigint') return String(v);
    if (v instanceof NixFloat) return floatToString(v.v);
    if (Array.isArray(v)) {
      let s = '';
      for (let i = 0; i < v.length; i++) {
        const el = forceSlot(v, i);
        s += coerceToString(state, el, ctx, opts, pos);
        if (i < v.length - 1 && !(Array.isArray(el) && el.length === 0)) s += ' ';
      }
      return s;
    }
  }
  throw new NixEvalError('TYPE', `cannot coerce ${showType(v)} to a string`, pos);
}
