// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Nix expressions contain a literal ${
// Expected texts were observed with nix-instantiate (Nix 2.8.0): `assert E; 1` fails with
// "assertion 'SHOWN' failed", where SHOWN is how Nix shows the parsed E.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from './parser.js';
import { showExpr } from './show-expr.js';
import { Source } from './source.js';

const shown = (text: string) =>
  showExpr(parse(new Source('/dir/f.nix', text), { basePath: '/dir', home: '/home/u' }));

test('operators show parenthesised, arithmetic and comparisons as builtin calls', () => {
  assert.equal(shown('x == 2'), '(x == 2)');
  assert.equal(
    shown('1 > 2 || 1 <= 2 && 1 >= 3'),
    '((__lessThan 2 1) || ((! (__lessThan 2 1)) && (! (__lessThan 1 3))))',
  );
  assert.equal(shown('1 * 2 / 3 == -1.5'), '((__div (__mul 1 2) 3) == (__sub 0 1.5))');
  assert.equal(shown('"a" + "b" + c'), '(("a" + "b") + c)');
  assert.equal(shown('[ ] ++ [ ] == { } // { }'), '(([ ] ++ [ ]) == ({ } // { }))');
  assert.equal(shown('!a -> b != c'), '((! a) -> (b != c))');
});

test('a call in function position merges into one call', () => {
  assert.equal(shown('(f 1) 2'), '(f 1 2)');
  assert.equal(shown('((f 1) 2) 3'), '(f 1 2 3)');
  assert.equal(shown('(a - b) c'), '(__sub a b c)');
  assert.equal(shown('(a <= b) c'), '((! (__lessThan b a)) c)');
  assert.equal(shown('<sp> x'), '(__findFile __nixPath "sp" x)');
});

test('literals, selections and attribute names', () => {
  assert.equal(shown('1.0e10 + 123456789.0 + 1.0e-7 + 2.0'), '(((1e+10 + 1.23457e+08) + 1e-07) + 2)');
  assert.equal(shown('"a\\"b\\\\c\\nd$x\\${y}"'), '"a\\"b\\\\c\\nd\\$x\\${y}"');
  assert.equal(shown('./a/${"b"}'), '(/dir/a/ + "b")');
  assert.equal(shown('~/x'), '/home/u/x');
  assert.equal(shown('http://x.org/a'), '"http://x.org/a"');
  assert.equal(shown('{ }.a.${"b"}.${c} or 3'), '({ }).a.b."${c}" or (3)');
  assert.equal(shown('{ } ? "a b"'), '(({ }) ? "a b")');
  assert.equal(shown('builtins.isInt "${x}"'), '((builtins).isInt (x))');
  assert.equal(shown('[ [ 1 ] (x: x) ]'), '[ ([ (1) ]) ((x: x)) ]');
});

test('sets sort their attributes; lets and formals keep their order', () => {
  assert.equal(
    shown('{ inherit t; ${"a"} = 1; "${q}" = 2; "if" = 3; "" = 4; x-y.z = 5; }'),
    '{ "" = 4; a = 1; "if" = 3; inherit t ; x-y = { z = 5; }; "${(q)}" = 2; }',
  );
  assert.equal(shown('rec { b = 1; inherit (s) a; }'), 'rec { a = (s).a; b = 1; }');
  assert.equal(shown('let z = 1; inherit (s) a; in z'), '(let z = 1; a = (s).a; in z)');
  assert.equal(shown('let { body = 1; }'), '(rec { body = 1; }).body');
  assert.equal(shown('{ b, a ? 1, ... } @ x: x'), '({ b, a ? 1, ... } @ x: x)');
  assert.equal(
    shown('{ ... }: with s; if c then a else assert b; d'),
    '({ ... }: (with s; (if c then a else assert b; d)))',
  );
});

test('indented strings show one piece per token', () => {
  assert.equal(shown("''a''$''\\tb'''c''"), '("a" + "\\$" + "\\t" + "b" + "\'\'" + "c")');
  assert.equal(shown("''\n  a\n  ''$\n  ''"), '("a\\n" + "\\$" + "\\n")');
  assert.equal(shown("''  ${x}  a''"), '("" + x + "  a")');
  assert.equal(shown("''${x}''"), '(x)');
  assert.equal(shown("''  ab  ''"), '"ab  "');
  assert.equal(shown("''''"), '""');
});
