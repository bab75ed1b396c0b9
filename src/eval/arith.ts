// 64-bit signed integer arithmetic with Nix 2.8 semantics (wrapping on overflow), over ints that
// are JS numbers while safe and bigints otherwise; and the number operators mixing ints and floats.
import { NixEvalError } from './errors.js';
import type { Pos } from './source.js';
import { NixFloat, type NixInt, showType, type Value } from './value.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** An integer's low 32 bits as a signed number: C's conversion to int, which some 2.8 builtins apply. */
export function toCInt(n: NixInt): number {
  return typeof n === 'number' ? n | 0 : Number(BigInt.asIntN(32, n));
}

export function normInt(b: bigint): NixInt {
  const w = BigInt.asIntN(64, b);
  return w >= -9007199254740991n && w <= 9007199254740991n ? Number(w) : w;
}

export function intAdd(a: NixInt, b: NixInt): NixInt {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    if (r <= MAX_SAFE && r >= -MAX_SAFE) return r;
  }
  return normInt(BigInt(a) + BigInt(b));
}

export function intSub(a: NixInt, b: NixInt): NixInt {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a - b;
    if (r <= MAX_SAFE && r >= -MAX_SAFE) return r;
  }
  return normInt(BigInt(a) - BigInt(b));
}

export function intMul(a: NixInt, b: NixInt): NixInt {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a * b;
    if (r <= MAX_SAFE && r >= -MAX_SAFE) return r === 0 ? 0 : r;
  }
  return normInt(BigInt(a) * BigInt(b));
}

export function intDiv(a: NixInt, b: NixInt, pos?: Pos): NixInt {
  if (b === 0) throw new NixEvalError('DIVISION_BY_ZERO', 'division by zero', pos);
  if (typeof a === 'number' && typeof b === 'number') {
    const r = (a - (a % b)) / b;
    return r === 0 ? 0 : r;
  }
  if (b === -1 && a === -9223372036854775808n)
    throw new NixEvalError('OVERFLOW', 'overflow in integer division', pos);
  return normInt(BigInt(a) / BigInt(b));
}

export function isInt(v: Value): v is NixInt {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** A number as a float (Nix's forceFloat: ints convert, anything else "while a float was expected"). */
function num(v: Value, pos: Pos | undefined): number {
  if (v instanceof NixFloat) return v.v;
  if (isInt(v)) return Number(v);
  throw new NixEvalError('TYPE', `value is ${showType(v)} while a float was expected`, pos);
}

function checkInt(v: Value, pos: Pos | undefined): void {
  if (!isInt(v)) throw new NixEvalError('TYPE', `value is ${showType(v)} while an integer was expected`, pos);
}

/**
 * `-`, `*` and `/` as Nix 2.8's primops: with a float on either side both are forced as floats,
 * otherwise as integers; `/` forces its divisor as a float and rejects zero before anything else.
 */
export function arith(op: '+' | '-' | '*' | '/', a: Value, b: Value, pos?: Pos): Value {
  if (isInt(a) && isInt(b)) {
    switch (op) {
      case '+':
        return intAdd(a, b);
      case '-':
        return intSub(a, b);
      case '*':
        return intMul(a, b);
      case '/':
        return intDiv(a, b, pos);
    }
  }
  if (op === '/' && num(b, pos) === 0) throw new NixEvalError('DIVISION_BY_ZERO', 'division by zero', pos);
  if (!(a instanceof NixFloat) && !(b instanceof NixFloat)) {
    checkInt(a, pos);
    checkInt(b, pos);
  }
  const x = num(a, pos);
  const y = num(b, pos);
  switch (op) {
    case '+':
      return new NixFloat(x + y);
    case '-':
      return new NixFloat(x - y);
    case '*':
      return new NixFloat(x * y);
    case '/':
      return new NixFloat(x / y);
  }
}
