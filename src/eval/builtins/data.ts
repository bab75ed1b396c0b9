// Builtins converting values to and from JSON, TOML and XML. Decoded strings end at a NUL, as Nix
// 2.8's C strings do; names keep it (see nameValue in attrs.ts).
import { normInt } from '../arith.js';
import { NixEvalError } from '../errors.js';
import { fromJSON } from '../from-json.js';
import { toJSON } from '../json.js';
import { forceStringNoCtx, mkStr } from '../ops.js';
import type { BuiltinDef, EvalState } from '../state.js';
import { upToNul } from '../text/strings.js';
import { parseToml, TomlError, type TomlValue } from '../text/toml.js';
import { Attrs, NixFloat, type Value } from '../value.js';
import { toXML } from '../xml.js';

function tomlToValue(t: TomlValue): Value {
  switch (t.t) {
    case 'int':
      return normInt(t.v);
    case 'float':
      return new NixFloat(t.v);
    case 'string':
      return upToNul(t.v);
    case 'bool':
      return t.v;
    case 'array':
      return t.v.map(tomlToValue);
    case 'table': {
      const m = new Map<string, Value>();
      for (const [k, v] of t.v) m.set(k, tomlToValue(v));
      return Attrs.from(m);
    }
  }
}

export function registerData(state: EvalState, defs: BuiltinDef[]): void {
  const def = (name: string, arity: number, fn: BuiltinDef['fn'], global = false) =>
    defs.push({ name, arity, fn, global });
  def('toJSON', 1, ([a], pos) => {
    const ctx = new Set<string>();
    return mkStr(toJSON(state, a!, ctx, pos), ctx);
  });
  def('fromJSON', 1, ([a], pos) => fromJSON(forceStringNoCtx(a!, pos), pos));
  def('toXML', 1, ([a], pos) => {
    const ctx = new Set<string>();
    return mkStr(toXML(state, a!, { strict: true, location: false }, ctx, pos), ctx);
  });
  def(
    'fromTOML',
    1,
    ([a], pos) => {
      try {
        // As fromJSON, a string that refers to store paths is refused (Nix 2.8).
        return tomlToValue(parseToml(forceStringNoCtx(a!, pos)));
      } catch (e) {
        if (e instanceof TomlError)
          throw new NixEvalError('TOML', `while parsing a TOML string: ${e.message}`, pos);
        throw e;
      }
    },
    true,
  );
}
