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
import { type Code, type Env, NixFloat, NixPath, NixStr, showType, type Value } from './value.js';

const FIRST_OPTS = { copyToStore: true, canonicalizePath: false };
const REST_OPTS = { copyToStore: true, canonicalizePath: true };
const FIRST_NO_COPY = { copyToStore: false, canonicalizePath: false };
const REST_NO_COPY = { copyToStore: false, canonicalizePath: true };

/**
 * String concatenation / `+` with Nix's rules: the first operand decides the result type. The
 * other operands are evaluated one at a time, each just before it is added (as Nix 2.8 does), so
 * that an error coercing one part comes before one evaluating the next.
 */
export function concatRest(
  state: EvalState,
  first: Value,
  rest: readonly Code[],
  env: Env,
  poss: readonly Pos[],
  pos: Pos,
  forceStr = false,
  firstPos?: Pos,
): Value {
  if (!forceStr && (isInt(first) || first instanceof NixFloat)) {
    let acc: Value = first;
    for (let i = 0; i < rest.length; i++) {
      const v = rest[i]!(env);
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
      s += coerceToString(state, rest[i]!(env), ctx, { copyToStore: false, canonicalizePath: true }, poss[i]);
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
  // `+` whose first operand is not a string (a set coerced through outPath or __toString) leaves
  // paths where they are, as Nix 2.8 copies only for interpolation or a string first operand.
  const copy = forceStr || typeof first === 'string' || first instanceof NixStr;
  let s = coerceToString(state, first, ctx, copy ? FIRST_OPTS : FIRST_NO_COPY, firstPos ?? pos);
  const restOpts = copy ? REST_OPTS : REST_NO_COPY;
  for (let i = 0; i < rest.length; i++) s += coerceToString(state, rest[i]!(env), ctx, restOpts, poss[i]);
  return mkPooledStr(s, ctx);
}
