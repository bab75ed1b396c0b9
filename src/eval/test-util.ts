// Test helpers: evaluate an expression (strictly) and print it as `nix-instantiate --eval --strict`.
import { forceDeep } from './builtins/util.js';
import { NixEvalError } from './errors.js';
import { MemoryEvalIO } from './io-memory.js';
import { printValue } from './print.js';
import { fromBytes, toBytes } from './source.js';
import { type EvalOptions, EvalState } from './state.js';

export function newState(opts: Partial<EvalOptions> = {}): EvalState {
  return new EvalState({
    io: new MemoryEvalIO(),
    cwd: '/tmp',
    readOnly: true,
    nixPath: [],
    trace: () => {},
    ...opts,
  });
}

/** The printed strict value of `expr` (UTF-8), evaluated with cwd as base directory. */
export function evalPrint(expr: string, opts: Partial<EvalOptions> = {}): string {
  const state = newState(opts);
  const v = state.evalString(toBytes(expr), toBytes(opts.cwd ?? '/tmp'));
  forceDeep(v);
  return fromBytes(printValue(v, { strict: true }));
}

/** The printed value of `expr` as `nix-instantiate --eval` (not --strict) prints it. */
export function evalPrintLazy(expr: string): string {
  const state = newState();
  return fromBytes(printValue(state.evalString(toBytes(expr), toBytes('/tmp')), { strict: false }));
}

/** The error `expr` fails with. */
export function evalError(expr: string, opts: Partial<EvalOptions> = {}): NixEvalError {
  try {
    evalPrint(expr, opts);
  } catch (e) {
    if (e instanceof NixEvalError) return e;
    throw e;
  }
  throw new Error(`expected '${expr}' to fail`);
}
