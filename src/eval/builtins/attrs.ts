// Attribute-set builtins.

import { missingAttr } from '../attr-errors.js';
import { Bindings } from '../bindings.js';
import { forceAttrs, forceFunction, forceList, forceString } from '../ops.js';
import type { Pos } from '../source.js';
import type { BuiltinDef, EvalState } from '../state.js';
import { Attrs, force, type Thunk, type Value } from '../value.js';
import { appThunk2 } from './util.js';

export function registerAttrs(state: EvalState, defs: BuiltinDef[]): void {
  const def = (name: string, arity: number, fn: BuiltinDef['fn'], global = false) =>
    defs.push({ name, arity, fn, global });

  def('attrNames', 1, ([a], pos) => forceAttrs(a!, pos).sortedNames());
  def('attrValues', 1, ([a], pos) => {
    const s = forceAttrs(a!, pos);
    return s.sortedNames().map((n) => s.m.get(n)!);
  });
  def('getAttr', 2, ([n, a], pos) => {
    const name = forceString(n!, pos);
    const s = forceAttrs(a!, pos);
    const v = s.m.get(name);
    if (v === undefined) throw missingAttr(name, s, pos);
    return force(v);
  });
  def('hasAttr', 2, ([n, a], pos) => forceAttrs(a!, pos).m.has(forceString(n!, pos)));
  def(
    'removeAttrs',
    2,
    ([a, l], pos) => {
      const s = forceAttrs(a!, pos);
      const names = forceList(l!, pos).map((x) => forceString(x, pos));
      if (!names.some((n) => s.m.has(n))) return s;
      const m = new Bindings(s.m.names.slice(), s.m.vals.slice());
      for (const n of names) m.delete(n);
      return new Attrs(m, s.pos);
    },
    true,
  );
  def('listToAttrs', 1, ([l], pos) => {
    const m = new Map<string, Value | Thunk>();
    // Each attribute is positioned where its `value` was defined, as in Nix.
    const positions = new Map<string, Pos>();
    for (const x of forceList(l!, pos)) {
      const e = forceAttrs(x, pos);
      const n = e.m.get('name');
      if (n === undefined) throw missingAttr('name', e, pos);
      const name = forceString(n, pos);
      if (m.has(name)) continue;
      const v = e.m.get('value');
      if (v === undefined) throw missingAttr('value', e, pos);
      m.set(name, v);
      const vp = e.pos?.get('value');
      if (vp) positions.set(name, vp);
    }
    return new Attrs(m, positions);
  });
  def('intersectAttrs', 2, ([a, b], pos) => {
    const x = forceAttrs(a!, pos);
    const y = forceAttrs(b!, pos);
    const names: string[] = [];
    const vals: (Value | Thunk)[] = [];
    for (let i = 0; i < y.m.names.length; i++) {
      const k = y.m.names[i]!;
      if (x.m.has(k)) {
        names.push(k);
        vals.push(y.m.vals[i]!);
      }
    }
    return new Attrs(new Bindings(names, vals));
  });
  def('catAttrs', 2, ([n, l], pos) => {
    const name = forceString(n!, pos);
    const out: (Value | Thunk)[] = [];
    for (const x of forceList(l!, pos)) {
      const v = forceAttrs(x, pos).m.get(name);
      if (v !== undefined) out.push(v);
    }
    return out;
  });
  def('mapAttrs', 2, ([f, a], pos) => {
    const s = forceAttrs(a!, pos);
    const fn = force(f!);
    const names = s.m.names;
    const vals = s.m.vals.map((v, i) => appThunk2(fn, names[i]!, v, pos));
    return new Attrs(new Bindings(names, vals), s.pos);
  });
  def('zipAttrsWith', 2, ([f, l], pos) => {
    const fn = forceFunction(f!, pos);
    const groups = new Map<string, (Value | Thunk)[]>();
    for (const x of forceList(l!, pos)) {
      for (const [k, v] of forceAttrs(x, pos).m) {
        const g = groups.get(k);
        if (g) g.push(v);
        else groups.set(k, [v]);
      }
    }
    const m = new Map<string, Value | Thunk>();
    for (const [k, vs] of groups) m.set(k, appThunk2(fn, k, vs, pos));
    return new Attrs(m);
  });
  def('unsafeGetAttrPos', 2, ([n, a], pos) => {
    const name = forceString(n!, pos);
    const s = forceAttrs(a!, pos);
    const p: Pos | undefined = s.pos?.get(name);
    if (!p || !s.m.has(name)) return null;
    return state.posToAttrs(p);
  });
}
