// String concatenation and `+` (Nix's ExprConcatStrings): the first operand decides whether the
// result is a number, a path (no store copies, no context allowed) or a string (paths copied to
// the store).
import { arith, isInt } from './arith.js';
import { coerceToString } from './coerce.js';
import { NixEvalError } from './errors.js';
import { mkPooledStr, takeCtx } from './ops.js';
import { canonPath } from './paths.js';
import type { Pos } from './source.js';
import type { EvalState } from './state.js';
import { NixFloat, NixPath, showType, type Value } from './value.js';

const FIRST_OPTS = { copyToStore: true, canonicalizePath: false };
const REST_OPTS = { copyToStore: true, canonicalizePath: true };

/** String concatenation / `+` with Nix's rules: the first operand decides the result type. */
export function concatRest(
  state: EvalState,
  first: Value,
  rest: Value[],
  poss: Pos[],
  pos: Pos,
  forceStr = false,
  firstPos?: Pos,
): Value {
  if (!forceStr && (isInt(first) || first instanceof NixFloat)) {
    let acc: Value = first;
    for (let i = 0; i < rest.length; i++) {
      const v = rest[i]!;
      if (!isInt(v) && !(v instanceof NixFloat)) {
        throw new NixEvalError(
          'TYPE',
          `cannot add ${showType(v)} to ${acc instanceof NixFloat ? 'a float' : 'an integer'}`,
          poss[i],
        );
      }
      acc = arith('+', acc, v, poss[i]);
    }
    return acc;
  }
  if (!forceStr && first instanceof NixPath) {
    const ctx = new Set<string>();
    let s = first.p;
    for (let i = 0; i < rest.length; i++) {
      s += coerceToString(state, rest[i]!, ctx, { copyToStore: false, canonicalizePath: true }, poss[i]);
    }
    if (ctx.size > 0) {
      throw new NixEvalError(
        'TYPE',
        'a string that refers to a store path cannot be appended to a path',
        pos,
      );
    }
    return new NixPath(canonPath(s));
  }
  const ctx = takeCtx();
  let s = coerceToString(state, first, ctx, FIRST_OPTS, firstPos ?? pos);
  for (let i = 0; i < rest.length; i++) s += coerceToString(state, rest[i]!, ctx, REST_OPTS, poss[i]);
  return mkPooledStr(s, ctx);
}
