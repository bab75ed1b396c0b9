// Evaluator semantics; expected outputs are what Nix 2.8's `nix-instantiate --eval --strict` prints.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { evalError, evalPrint, evalPrintLazy } from './test-util.js';

const cases: [string, string][] = [
  ['let x = 1; in with { x = 2; y = 3; }; x + y', '4'],
  ['with { a = 1; }; with { a = 2; }; a', '2'],
  ['with { true = 1; }; true', 'true'],
  ['rec { a = 1; b = a + 1; }', '{ a = 1; b = 2; }'],
  ['let x = 5; in rec { inherit x; y = x; }', '{ x = 5; y = 5; }'],
  ['let a = b; b = 1; in a', '1'],
  ['let a = { b = a; }; in a', '{ b = «repeated»; }'],
  ['let x = [1]; in [x x]', '[ [ 1 ] «repeated» ]'],
  ['let x = [ x ]; in x', '[ [ «repeated» ] ]'],
  ['{ __functor = self: x: x + 10; } 5', '15'],
  ['builtins.isFunction { __functor = self: x: x; }', 'false'],
  ['toString { __toString = s: "hi"; }', '"hi"'],
  ['"${{ outPath = "/x"; }}"', '"/x"'],
  ['toString [ 1 null true false "a" [2] ]', '"1  1  a 2"'],
  ['toString 1.0', '"1.000000"'],
  ['9223372036854775807 + 1', '-9223372036854775808'],
  ['(-7) / 2', '-3'],
  ['0.1 + 0.2', '0.3'],
  ['123456789.0', '1.23457e+08'],
  ['1 == 1.0', 'true'],
  ['[1 2] < [1 3]', 'true'],
  ['let f = x: x; in [ (f == f) ([f] == [f]) ({ a = f; } == { a = f; }) ]', '[ false true true ]'],
  ['builtins.seq { a = throw "boom"; } 1', '1'],
  ['builtins.tryEval (throw "x")', '{ success = false; value = false; }'],
  ['builtins.tryEval (assert false; 1)', '{ success = false; value = false; }'],
  ['builtins.tryEval <nonexistent>', '{ success = false; value = false; }'],
  ['(orig@{ x, ... }: "ok") { x = throw "no"; }', '"ok"'],
  ['{ a = 1; } ? a', 'true'],
  ['{ a = 1; }.b or 2', '2'],
  ['(1).b or 2', '2'],
  ['{ ${null} = 1; b = 2; }', '{ b = 2; }'],
  ['let s = "a"; in { ${s} = 1; "${s}b" = 2; }', '{ a = 1; ab = 2; }'],
  ['rec { __overrides = { a = 2; }; a = 1; b = a; }.b', '2'],
  ['assert true; 1', '1'],
  ["builtins.foldl' (a: b: a + b) 0 (builtins.genList (x: x) 100000)", '4999950000'],
];

test('evaluation matches Nix 2.8', () => {
  for (const [expr, expected] of cases) {
    assert.equal(evalPrint(expr), expected, expr);
  }
  assert.equal(evalPrint('3000000000 * 3000000000'), '9000000000000000000');
  assert.equal(evalPrint('4000000000 * 4000000000'), '-2446744073709551616');
  const dir = mkdtempSync(join(tmpdir(), 'tix-eval-'));
  writeFileSync(join(dir, 'f.txt'), 'hello\n');
  assert.equal(evalPrint('./f.txt + "x"', { cwd: dir }), `${dir}/f.txtx`);
  assert.equal(evalPrint('toString ./f.txt', { cwd: dir }), `"${dir}/f.txt"`);
  // Interpolating a path copies it to the store (the hash depends only on name and contents).
  assert.equal(
    evalPrint('"${./f.txt}"', { cwd: dir }),
    '"/nix/store/6h9lcbx523532ax1c5g2351w9bm8ykhy-f.txt"',
  );
  assert.equal(
    evalPrint('builtins.getContext "${./f.txt}"', { cwd: dir }),
    '{ "/nix/store/6h9lcbx523532ax1c5g2351w9bm8ykhy-f.txt" = { path = true; }; }',
  );
});

// A thunk, once forced, gives way to its value where it is held (sets, lists, environments), and a
// variable bound by `with` is looked up without evaluating as Nix 2.8 does. Neither may change
// what Nix tells apart by the cell holding a value: functions equal only in the same cell, lists
// of one or two elements «repeated» by their cell, and <CODE> for what is not evaluated yet.
const cellCases: [string, string][] = [
  ['let a = { x = y: y; }; in builtins.seq a.x ([a.x] == [a.x])', 'false'],
  ['let f = x: x; l1 = [f]; in builtins.seq l1 (builtins.seq (f 1) (l1 == [f]))', 'true'],
  ['let f = x: x; g = f; in builtins.seq (g 1) (builtins.seq (f 1) ([ f ] == [ g ]))', 'true'],
  ['let p = builtins.add 1; in builtins.seq (p 1) ([ p ] == [ p ])', 'true'],
  ['let a = { f = builtins.add 1; }; in builtins.seq a.f ([ a.f ] == [ a.f ])', 'false'],
  ['let a = { l = [1 2 3]; }; in builtins.seq a.l [ a.l a.l ]', '[ [ 1 2 3 ] «repeated» ]'],
  ['let a = { l = [1]; }; in builtins.seq a.l [ a.l a.l ]', '[ [ 1 ] [ 1 ] ]'],
  ['let l = [ (1+1) ]; in builtins.seq l [ l l ]', '[ [ 2 ] «repeated» ]'],
  [
    'let s = rec { a = [ 1 ]; b = [ a a ]; }; in builtins.deepSeq s s',
    '{ a = [ 1 ]; b = [ «repeated» «repeated» ]; }',
  ],
];
const lazyCellCases: [string, string][] = [
  ['let s = { a = 1; }; in builtins.seq s (with s; [ a ])', '[ <CODE> ]'],
  ['let s = { a = 1; }; in with s; builtins.seq a [ a ]', '[ 1 ]'],
  ['with { a = 1 + 1; }; with { b = 2; }; builtins.seq b [ a ]', '[ <CODE> ]'],
  ['with { a = 1 + 1; }; with { b = 2; }; builtins.seq b (builtins.seq a [ a ])', '[ 2 ]'],
  ['with { a = 1 + 1; }; builtins.seq a { x = a; }', '{ x = 2; }'],
  ['let x = { a = 1 + 1; }; in builtins.seq x.a [ x.a ]', '[ <CODE> ]'],
  ['(x: builtins.seq x [ x ]) (1 + 1)', '[ 2 ]'],
  ['let l = [ (1+1) 2 3 ]; in builtins.seq l [ l ]', '[ [ <CODE> 2 3 ] ]'],
];

test('values keep the identity Nix 2.8 gives them by their cell', () => {
  for (const [expr, expected] of cellCases) assert.equal(evalPrint(expr), expected, expr);
  for (const [expr, expected] of lazyCellCases) assert.equal(evalPrintLazy(expr), expected, expr);
  // Past the outermost `with` already evaluated, a variable is undefined at once, even unforced.
  assert.equal(
    evalError('with { a = 1; }; builtins.seq a (builtins.length [ b ])').message,
    "undefined variable 'b'",
  );
  assert.equal(evalPrint('with { a = 1; }; builtins.length [ b ]'), '1');
});

test('errors carry Nix messages and positions', () => {
  assert.equal(evalError('let x = x; in x').message, 'infinite recursion encountered');
  assert.equal(evalError('"${1}"').message, 'cannot coerce an integer to a string');
  assert.equal(evalError('1 + "a"').message, 'cannot add a string to an integer');
  assert.equal(evalError('1 / 0').message, 'division by zero');
  assert.equal(evalError('x').message, "undefined variable 'x'");
  assert.equal(evalError('rec { ${"a" + ""} = 2; b = a * 10; }.b').message, "undefined variable 'a'");
  assert.equal(evalError('{ a = 1; }.b').message, "attribute 'b' missing");
  assert.equal(
    evalError('({ a }: a) {}').message,
    "anonymous function at (string):1:2 called without required argument 'a'",
  );
  assert.equal(
    evalError('({ a }: a) { a = 1; b = 2; }').message,
    "anonymous function at (string):1:2 called with unexpected argument 'b'",
  );
  assert.equal(evalError('throw "boo"').message, 'boo');
  assert.equal(evalError('abort "x"').message, "evaluation aborted with the following error message: 'x'");
  assert.equal(evalError('builtins.tryEval (abort "x")').code, 'ABORT');
  assert.equal(evalError('if 1 then 2 else 3').message, 'value is an integer while a Boolean was expected');
  assert.equal(evalError('1 2').message, 'attempt to call something which is not a function but an integer');
  assert.equal(evalError('(-9223372036854775807 - 1) / (-1)').message, 'overflow in integer division');
  const e = evalError('let\n  f = x: x.y;\nin\n  f { z = 1; }');
  assert.equal(e.hint, 'Did you mean z?');
  const text = e.format({ showTrace: true });
  assert.match(
    text,
    /^error: attribute 'y' missing\n\n {7}at «string»:2:10:\n\n {12}1\| let\n {12}2\| {3}f = x: x\.y;\n {13}\| {10}\^\n/,
  );
  assert.match(text, /… while evaluating 'f'/);
  assert.match(text, /… from call site/);
});

test('deep recursion: 10,000-deep Nix recursion runs on the default stack fallback path', async () => {
  const { runEvaluation } = await import('./run.js');
  let out = '';
  const code = await runEvaluation(
    {
      mode: 'eval',
      exprs: [{ kind: 'expr', text: 'let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 100000' }],
      attrPaths: [],
      args: [],
      strict: true,
      json: false,
      xml: false,
      location: true,
      nixPath: [],
      cwd: '/tmp',
      env: {},
      showTrace: false,
    },
    { options: {} },
    { stdout: (d) => (out += d), stderr: (d) => (out += d) },
  );
  assert.equal(code, 0);
  assert.equal(out, '100000\n');
});
