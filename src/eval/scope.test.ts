// Variables are checked when a file loads although function bodies compile on their first call:
// the error, and which variable it names first, must be the ones eager compilation gives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { callFunction } from './ops.js';
import { parse } from './parser.js';
import { checkVariables, type Scope } from './scope.js';
import { Source } from './source.js';
import { evalError, evalPrint, newState } from './test-util.js';
import { Attrs, force, Lambda } from './value.js';

/** The message and offset of the first unbound variable the checker reports, or undefined. */
function firstUnbound(text: string): { message: string; off: number } | undefined {
  const src = new Source(undefined, text);
  const scope: Scope = { vars: new Map([['builtins', 0]]), parent: null };
  try {
    checkVariables(parse(src, { basePath: '/' }), scope, src);
    return undefined;
  } catch (e) {
    const err = e as { message: string; pos?: { off: number } };
    return { message: err.message, off: err.pos!.off };
  }
}

test('an unbound variable in a function that is never called is an error when the file loads', () => {
  assert.equal(evalError('let f = x: y; in 1').message, "undefined variable 'y'");
  assert.equal(evalError('{ f = { a, b ? c }: a; }').message, "undefined variable 'c'");
  assert.equal(evalError('[ (x: y: z: w) ]').message, "undefined variable 'w'");
  assert.equal(evalError('rec { f = x: g; }').message, "undefined variable 'g'");
});

test('with makes every name resolvable at run time, also inside deferred bodies', () => {
  assert.equal(evalPrint('with {}; let f = x: notBound; in 1'), '1');
  assert.equal(evalError('with {}; let f = x: notBound; in f 1').message, "undefined variable 'notBound'");
});

test('the checker reports the first unbound variable in the compiler order', () => {
  // The function before its arguments; formals' defaults before the body; `inherit (e)` sources
  // before the bindings; a let's bindings as written. (Every case gives the same as Nix 2.8.)
  const cases: [string, string][] = [
    ['a b', 'a'],
    ['(x: b) c', 'b'],
    ['(x: x) c', 'c'],
    ['{ p ? q }: r', 'q'],
    ['let z = a; y = b; in c', 'a'],
    ['let inherit (s) t; u = v; in w', 's'],
    ['rec { inherit (s) t; u = t; }', 's'],
    ['{ inherit a; b = c; }', 'a'],
    ['{ ${d} = e; f = g; }', 'g'],
    ['x.${y} or z', 'x'],
    ['if a then b else c', 'a'],
    ['assert a; b', 'a'],
    ['a + b', 'a'],
    ['"${a}${b}"', 'a'],
  ];
  assert.equal(firstUnbound('let x = {}; in with x; y'), undefined);
  for (const [text, name] of cases) {
    assert.equal(firstUnbound(text)?.message, `undefined variable '${name}'`, text);
    // The evaluator (which checks function bodies with this and compiles the rest) agrees.
    assert.equal(evalError(text).message, `undefined variable '${name}'`, text);
  }
});

test('a deferred body is compiled once and behaves as an eager one', () => {
  assert.equal(evalPrint('let f = n: if n == 0 then 0 else n + f (n - 1); in f 100'), '5050');
  assert.equal(
    evalPrint('let f = { a, b ? a * 2 }: a + b; in [ (f { a = 1; }) (f { a = 1; b = 5; }) ]'),
    '[ 3 6 ]',
  );
  assert.equal(evalPrint('let add = x: y: x + y; in map (add 1) [ 1 2 ]'), '[ 2 3 ]');
  const f = force(newState().evalString('x: { y = x; }', '/'));
  assert.ok(f instanceof Lambda);
  const deferred = f.info.body;
  const r = force(callFunction(f, 7));
  assert.ok(r instanceof Attrs);
  assert.equal(force(r.m.get('y')!), 7);
  const compiled = f.info.body;
  assert.notEqual(compiled, deferred, 'the first call compiles the body');
  callFunction(f, 8);
  assert.equal(f.info.body, compiled, 'later calls run the compiled body');
});
