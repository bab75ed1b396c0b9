// Attribute-set builtins.

import { missingAttrFor } from '../attr-errors.js';
import { type Bindings, permute, sortOrderFirsts } from '../bindings.js';
import { NixEvalError } from '../errors.js';
import { forceAttrs, forceFunction, forceList, forceStringNoCtx } from '../ops.js';
import type { Pos } from '../source.js';
import type { BuiltinDef, EvalState } from '../state.js';
import { upToNul } from '../text/strings.js';
import { Attrs, force, type PosLookup, Thunk, type Value } from '../value.js';
import { appThunk2 } from './util.js';

/**
 * listToAttrs's positions: each attribute is where its `value` was defined in the element that
 * gave it, looked up only when asked for (an error or unsafeGetAttrPos), as most never are. Only
 * the elements' position lookups are kept, not the elements (with their `name`s): elements written
 * by one set literal share one lookup.
 */
class ValuePos implements PosLookup {
  constructor(
    /** The set made (its names are in the order of `from`). */
    private readonly set: Bindings,
    private readonly from: (PosLookup | undefined)[],
  ) {}
  get(name: string): Pos | undefined {
    const i = this.set.indexOf(name);
    return i < 0 ? undefined : this.from[i]?.get('value');
  }
}

/**
 * An attribute name as a string value: up to a NUL, which a name from fromJSON or fromTOML may
 * hold (Nix 2.8 keeps the whole name, but makes C strings of names).
 */
function nameValue(name: string): string {
  return name.indexOf('\0') < 0 ? name : upToNul(name);
}

/** A zipAttrsWith element as a set: a wrong one is reported without a position, with the call as a frame (2.8). */
function elementAttrs(x: Value | Thunk, pos: Pos | undefined): Attrs {
  try {
    return forceAttrs(x);
  } catch (e) {
    if (e instanceof NixEvalError && e.code === 'TYPE') e.addTrace(pos, "while invoking 'zipAttrsWith'");
    throw e;
  }
}

export function registerAttrs(state: EvalState, defs: BuiltinDef[]): void {
  const def = (name: string, arity: number, fn: BuiltinDef['fn'], global = false) =>
    defs.push({ name, arity, fn, global });

  def('attrNames', 1, ([a], pos) => {
    const names = forceAttrs(a!, pos).sortedNames();
    for (let i = 0; i < names.length; i++) names[i] = nameValue(names[i]!);
    return names;
  });
  def('attrValues', 1, ([a], pos) => {
    const s = forceAttrs(a!, pos);
    return s.m.vals.slice();
  });
  def('getAttr', 2, ([n, a], pos) => {
    const name = forceStringNoCtx(n!, pos);
    const s = forceAttrs(a!, pos);
    const v = s.m.get(name);
    if (v === undefined) throw missingAttrFor(name, 'getAttr', s, pos);
    return force(v);
  });
  def('hasAttr', 2, ([n, a], pos) => {
    const name = forceStringNoCtx(n!, pos);
    return forceAttrs(a!, pos).m.has(name);
  });
  def(
    'removeAttrs',
    2,
    ([a, l], pos) => {
      const s = forceAttrs(a!, pos);
      const names = forceList(l!, pos).map((x) => forceStringNoCtx(x, pos));
      if (!names.some((n) => s.m.has(n))) return s;
      const m = new Attrs(s.m.names.slice(), s.m.vals.slice(), s.pos);
      for (const n of names) m.delete(n);
      return m;
    },
    true,
  );
  def('listToAttrs', 1, ([l], pos) => {
    const list = forceList(l!, pos);
    const names: string[] = [];
    const vals: (Value | Thunk)[] = [];
    const from: (PosLookup | undefined)[] = [];
    // The elements tend to share one layout: each name's last index is tried first.
    let nameAt = 0;
    let valueAt = 1;
    for (let i = 0; i < list.length; i++) {
      const e = forceAttrs(list[i]!, pos);
      const m = e.m;
      nameAt = m.indexNear('name', nameAt);
      if (nameAt < 0) throw missingAttrFor('name', 'listToAttrs', e, pos);
      const t = m.vals[nameAt]!;
      const n = t instanceof Thunk && t.forced ? t.v : t;
      const name = typeof n === 'string' ? n : forceStringNoCtx(n, e.pos?.get('name') ?? pos);
      const at = m.indexNear('value', valueAt);
      if (at < 0) {
        // Only the first definition of a name needs a value: later ones are skipped, as in 2.8.
        if (!names.includes(name)) throw missingAttrFor('value', 'listToAttrs', e, pos);
        continue;
      }
      valueAt = at;
      names.push(name);
      vals.push(m.vals[valueAt]!);
      from.push(e.pos);
    }
    // The first definition of a name wins: repeats are left out when the names are sorted.
    const order = sortOrderFirsts(names);
    const set = new Attrs(permute(names, order), permute(vals, order));
    set.pos = new ValuePos(set, permute(from, order));
    return set;
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
    // The attributes keep their positions in the second set (Nix 2.8 copies them whole).
    return new Attrs(names, vals, y.pos);
  });
  def('catAttrs', 2, ([n, l], pos) => {
    const name = forceStringNoCtx(n!, pos);
    const out: (Value | Thunk)[] = [];
    // The sets of one list tend to share a layout: the name's last index is tried first.
    let guess = 0;
    for (const x of forceList(l!, pos)) {
      const m = forceAttrs(x, pos).m;
      const i = m.indexNear(name, guess);
      if (i < 0) continue;
      guess = i;
      out.push(m.vals[i]!);
    }
    return out;
  });
  def('mapAttrs', 2, ([f, a], pos) => {
    const s = forceAttrs(a!, pos);
    const names = s.m.names;
    const vals = s.m.vals.map((v, i) => appThunk2(f!, nameValue(names[i]!), v, pos));
    // New attributes without positions, as in Nix 2.8 (unsafeGetAttrPos gives null).
    return new Attrs(names, vals);
  });
  def('zipAttrsWith', 2, ([f, l], pos) => {
    const fn = forceFunction(f!, pos);
    const list = forceList(l!, pos);
    const groups = new Map<string, (Value | Thunk)[]>();
    // Names arrive in order when each set adds only names after the ones seen (often the case).
    let inOrder = true;
    let last = '';
    for (let j = 0; j < list.length; j++) {
      const { names, vals } = elementAttrs(list[j]!, pos);
      for (let i = 0; i < names.length; i++) {
        const k = names[i]!;
        const g = groups.get(k);
        if (g) g.push(vals[i]!);
        else {
          groups.set(k, [vals[i]!]);
          if (groups.size > 1 && !(k > last)) inOrder = false;
          last = k;
        }
      }
    }
    const names = [...groups.keys()];
    if (!inOrder) names.sort();
    const vals = new Array<Value | Thunk>(names.length);
    for (let i = 0; i < names.length; i++) {
      vals[i] = appThunk2(fn, nameValue(names[i]!), groups.get(names[i]!)!, pos);
    }
    return new Attrs(names, vals);
  });
  def('unsafeGetAttrPos', 2, ([n, a], pos) => {
    const name = forceStringNoCtx(n!, pos);
    const s = forceAttrs(a!, pos);
    const p: Pos | undefined = s.pos?.get(name);
    if (!p || !s.m.has(name)) return null;
    return state.posToAttrs(p);
  });
}
