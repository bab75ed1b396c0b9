// Builtins about types, numbers, control flow and debugging.
import { arith, isInt, normInt } from '../arith.js';
import { coerceToString } from '../coerce.js';
import { NixEvalError } from '../errors.js';
import { forceFloat, forceInt, forceStringNoCtx, lessThan } from '../ops.js';
import { printValue } from '../print.js';
import type { BuiltinDef, ConstDef, EvalState } from '../state.js';
import {
  Attrs,
  determinePos,
  force,
  isFunction,
  Lambda,
  NixFloat,
  NixPath,
  NixStr,
  PrimOp,
  PrimOpApp,
  typeOf,
  type Value,
} from '../value.js';
import { forceDeep, mkAttrs } from './util.js';

export function registerBasic(state: EvalState, defs: BuiltinDef[], consts: ConstDef[]): void {
  const def = (name: string, arity: number, fn: BuiltinDef['fn'], global = false) =>
    defs.push({ name, arity, fn, global });
  // Type tests, each its own function (one shared wrapper calling a test would be a
  // megamorphic call on a hot path of module-system code).
  def('isNull', 1, ([a], pos) => force(a!, pos) === null, true);
  def('isInt', 1, ([a], pos) => isInt(force(a!, pos)));
  def('isFloat', 1, ([a], pos) => force(a!, pos) instanceof NixFloat);
  def('isBool', 1, ([a], pos) => typeof force(a!, pos) === 'boolean');
  def('isString', 1, ([a], pos) => {
    const v = force(a!, pos);
    return typeof v === 'string' || v instanceof NixStr;
  });
  def('isPath', 1, ([a], pos) => force(a!, pos) instanceof NixPath);
  def('isList', 1, ([a], pos) => Array.isArray(force(a!, pos)));
  def('isAttrs', 1, ([a], pos) => force(a!, pos) instanceof Attrs);
  def('isFunction', 1, ([a], pos) => isFunction(force(a!, pos)));
  def('typeOf', 1, ([a], pos) => typeOf(force(a!, pos)));

  def('add', 2, ([a, b], pos) => arith('+', force(a!, pos), force(b!, pos), pos));
  def('sub', 2, ([a, b], pos) => arith('-', force(a!, pos), force(b!, pos), pos));
  def('mul', 2, ([a, b], pos) => arith('*', force(a!, pos), force(b!, pos), pos));
  def('div', 2, ([a, b], pos) => arith('/', force(a!, pos), force(b!, pos), pos));
  def('lessThan', 2, ([a, b], pos) => lessThan(a!, b!, pos));
  // Safe-integer operands are split into 32-bit halves (two's complement); bigints otherwise.
  const bit = (name: string, f32: (x: number, y: number) => number, f: (x: bigint, y: bigint) => bigint) =>
    def(name, 2, ([a, b], pos) => {
      const x = forceInt(a!, pos);
      const y = forceInt(b!, pos);
      if (typeof x === 'number' && typeof y === 'number') {
        const hi = f32(Math.floor(x / 4294967296), Math.floor(y / 4294967296));
        const lo = f32(x >>> 0, y >>> 0) >>> 0;
        return hi * 4294967296 + lo;
      }
      return normInt(f(BigInt(x), BigInt(y)));
    });
  bit(
    'bitAnd',
    (x, y) => x & y,
    (x, y) => x & y,
  );
  bit(
    'bitOr',
    (x, y) => x | y,
    (x, y) => x | y,
  );
  bit(
    'bitXor',
    (x, y) => x ^ y,
    (x, y) => x ^ y,
  );
  def('ceil', 1, ([a], pos) => floatToInt(Math.ceil(forceFloat(a!, determinePos(a!, pos)))));
  def('floor', 1, ([a], pos) => floatToInt(Math.floor(forceFloat(a!, determinePos(a!, pos)))));

  def(
    'throw',
    1,
    ([a], pos) => {
      const msg = coerceToString(state, a!, new Set(), { copyToStore: true }, pos);
      throw new NixEvalError('THROW', msg);
    },
    true,
  );
  def(
    'abort',
    1,
    ([a], pos) => {
      const msg = coerceToString(state, a!, new Set(), { copyToStore: true }, pos);
      throw new NixEvalError('ABORT', `evaluation aborted with the following error message: '${msg}'`);
    },
    true,
  );
  def('seq', 2, ([a, b], pos) => {
    force(a!, pos);
    return force(b!, pos);
  });
  def('deepSeq', 2, ([a, b], pos) => {
    forceDeep(a!);
    return force(b!, pos);
  });
  def('trace', 2, ([a, b], pos) => {
    const v = force(a!, pos);
    state.trace(
      `trace: ${typeof v === 'string' ? v : v instanceof NixStr ? v.s : printValue(v, { strict: false })}`,
    );
    return force(b!, pos);
  });
  def('tryEval', 1, ([a], pos) => {
    try {
      const v = force(a!, pos);
      return mkAttrs([
        ['success', true],
        ['value', v],
      ]);
    } catch (e) {
      if (e instanceof NixEvalError && e.catchable) {
        return mkAttrs([
          ['success', false],
          ['value', false],
        ]);
      }
      throw e;
    }
  });
  def('addErrorContext', 2, ([msg, e], pos) => {
    try {
      return force(e!, pos);
    } catch (err) {
      // The message is evaluated only on failure, coerced as "${msg}" would be (Nix 2.8).
      if (err instanceof NixEvalError)
        err.addTrace(undefined, coerceToString(state, msg!, new Set(), { copyToStore: true }, pos));
      throw err;
    }
  });
  def('functionArgs', 1, ([a], pos) => {
    const f = force(a!, pos);
    if (f instanceof PrimOp || f instanceof PrimOpApp) return Attrs.empty;
    if (!(f instanceof Lambda)) throw new NixEvalError('TYPE', "'functionArgs' requires a function", pos);
    const formals = f.info.formals;
    if (!formals) return Attrs.empty;
    return Attrs.from(
      new Map(formals.names.map((n, i) => [n, formals.defaults[i] !== undefined])),
      new Map(formals.names.map((n, i) => [n, formals.pos[i]!])),
    );
  });
  def('getEnv', 1, ([a], pos) => {
    const name = forceStringNoCtx(a!, pos);
    const env = state.opts.env ?? {};
    return env[name] ?? '';
  });

  consts.push({ name: 'true', value: true, global: true });
  consts.push({ name: 'false', value: false, global: true });
  consts.push({ name: 'null', value: null, global: true });
  consts.push({ name: 'langVersion', value: 6 });
  consts.push({ name: 'nixVersion', value: '2.8.0' });
  consts.push({ name: 'currentSystem', value: state.opts.currentSystem ?? hostSystem() });
  consts.push({ name: 'currentTime', value: Math.floor(Date.now() / 1000) });
  consts.push({ name: 'storeDir', value: state.storeDir });
}

/** The Nix system name of this machine, e.g. "x86_64-linux". */
export function hostSystem(): string {
  const arch: Record<string, string> = {
    x64: 'x86_64',
    arm64: 'aarch64',
    ia32: 'i686',
    arm: 'armv7l',
    riscv64: 'riscv64',
  };
  return `${arch[process.arch] ?? process.arch}-${process.platform}`;
}

/**
 * An integral double as Nix 2.8's conversion to a 64-bit integer gives it on x86-64: a value
 * outside [-2^63, 2^63), an infinity or NaN becomes -2^63 (the CPU's "integer indefinite").
 */
function floatToInt(x: number): Value {
  if (Number.isSafeInteger(x)) return x === 0 ? 0 : x;
  if (!(x >= -(2 ** 63) && x < 2 ** 63)) return -9223372036854775808n;
  return normInt(BigInt(x));
}
