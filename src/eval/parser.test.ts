import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NixEvalError } from './errors.js';
import { parse } from './parser.js';
import { Source } from './source.js';
import { evalPrint } from './test-util.js';

const p = (text: string) => parse(new Source('/dir/f.nix', text), { basePath: '/dir', home: '/home/u' });

function parseError(text: string): NixEvalError {
  try {
    p(text);
  } catch (e) {
    if (e instanceof NixEvalError) return e;
    throw e;
  }
  throw new Error(`expected a parse error for ${text}`);
}

test('operator precedence and associativity follow Nix', () => {
  assert.equal(evalPrint('1 + 2 * 3'), '7');
  assert.equal(evalPrint('10 - 2 - 3'), '5');
  assert.equal(evalPrint('[1] ++ [2] ++ [3]'), '[ 1 2 3 ]');
  assert.equal(evalPrint('{ a = 1; } // { a = 2; } // { b = 3; }'), '{ a = 2; b = 3; }');
  assert.equal(evalPrint('!true || true'), 'true');
  assert.equal(evalPrint('! false && false'), 'false');
  assert.equal(evalPrint('true -> false -> false'), 'true');
  assert.equal(evalPrint('-2 * 3'), '-6');
  assert.equal(evalPrint('({ a.b = 1; }) ? a.b'), 'true');
  assert.equal(evalPrint('let f = 5; in f -1'), '4');
  assert.equal(evalPrint('1 < 2 == true'), 'true');
});

test('non-associative operators cannot be chained', () => {
  assert.match(parseError('1 == 2 == 3').message, /syntax error/);
  assert.match(parseError('1 < 2 < 3').message, /syntax error/);
  // `?` takes an attribute path, not an operand: it chains left to right.
  assert.deepEqual(p('a ? b ? c'), {
    k: 'hasattr',
    off: 6,
    e: { k: 'hasattr', off: 2, e: { k: 'var', off: 0, name: 'a' }, path: [{ s: 'b' }] },
    path: [{ s: 'c' }],
  });
});

test('paths resolve against the file directory, ~ against HOME', () => {
  assert.deepEqual(p('./a/../b.nix'), { k: 'path', off: 0, v: '/dir/b.nix' });
  assert.deepEqual(p('~/x'), { k: 'path', off: 0, v: '/home/u/x' });
  assert.equal(evalPrint('/abs/./x/../y/.'), '/abs/y');
  // Nix 2.8 lexes `/abs/` and then `/x` as path text that must lead to an interpolation.
  assert.match(parseError('/abs//x').message, /unexpected PATH_END, expecting DOLLAR_CURLY/);
  assert.equal(p('a/b').k, 'path');
  assert.equal(p('x:x').k, 'str');
  assert.equal(p('<nixpkgs/lib>').k, 'call');
  assert.equal(p('./a/${"b"}/c').k, 'concat');
});

test('a path with a trailing slash is an error', () => {
  assert.match(parseError('./foo/ ').message, /trailing slash/);
});

test('strings: escapes, interpolation, $$', () => {
  assert.equal(evalPrint('"a\\nb\\tc\\\\d\\"e\\x"'), '"a\\nb\\tc\\\\d\\"ex"');
  assert.equal(evalPrint('"$${x}"'), '"$\\${x}"');
  assert.equal(evalPrint('"\\${x}"'), '"\\${x}"');
  assert.equal(evalPrint('let x = "y"; in "a${x}b${"c"}"'), '"aybc"');
  assert.equal(evalPrint('"a\r\nb"'), '"a\\nb"');
});

test('indented strings strip indentation; escapes are not indentation', () => {
  assert.equal(evalPrint("''\n  a\n    b\n  c\n''"), '"a\\n  b\\nc\\n"');
  assert.equal(
    evalPrint("''\n  a ''${b} '''q''' ''\\n x ''\\t ''\\\\ $\n''"),
    "\"a \\${b} ''q'' \\nx \\t \\\\ $\\n\"",
  );
  assert.equal(evalPrint("''  x\n  y''"), '"x\\ny"');
  assert.equal(evalPrint("''${\"a\"}''"), '"a"');
  assert.equal(evalPrint("''$$''"), '"$$"');
});

test('integers: literal range', () => {
  assert.equal(evalPrint('9223372036854775807'), '9223372036854775807');
  assert.match(parseError('9223372036854775808').message, /invalid integer/);
  assert.equal(evalPrint('1.5e2'), '150');
  assert.equal(evalPrint('.5'), '0.5');
});

test('attribute paths merge; duplicates are errors', () => {
  assert.equal(evalPrint('{ a.b = 1; a.c = 2; a = { d = 3; }; }'), '{ a = { b = 1; c = 2; d = 3; }; }');
  assert.match(parseError('{ a = 1; a = 2; }').message, /attribute 'a' already defined at \/dir\/f.nix:1:3/);
  assert.match(parseError('{ a.b = 1; a = 2; }').message, /already defined/);
  assert.match(parseError('let ${"a" + "b"} = 1; in a').message, /dynamic attributes not allowed in let/);
  assert.match(parseError('let "${"a"}" = 1; in a').message, /dynamic attributes not allowed in let/);
  assert.equal(evalPrint('let ${"a"} = 1; in a'), '1');
  assert.match(parseError('{ inherit ${"a" + "b"}; }').message, /dynamic attributes not allowed in inherit/);
  assert.equal(evalPrint('{ "a b".c = 1; ${"x" + "y"} = 2; }'), '{ "a b" = { c = 1; }; xy = 2; }');
});

test('functions: formals, defaults, @-patterns, legacy let, or as identifier', () => {
  assert.equal(evalPrint('({ a, b ? a + 1, ... }@s: [ a b s.c ]) { a = 1; c = 3; }'), '[ 1 2 3 ]');
  assert.equal(evalPrint('(s@{ a }: s) { a = 1; }'), '{ a = 1; }');
  assert.equal(evalPrint('({}: 1) {}'), '1');
  assert.equal(evalPrint('let { x = 1; body = x + 1; }'), '2');
  assert.equal(evalPrint('let or = 1; f = x: x; in f or'), '1');
  assert.equal(evalPrint('{ or = 1; }.or'), '1');
  assert.match(parseError('{ a, a }: a').message, /duplicate formal function argument 'a'/);
});

test('parse errors give file:line:col and what was expected', () => {
  const e = parseError('let x = 1; in { a = x }');
  assert.equal(e.message, "syntax error, unexpected '}', expecting ';'");
  const { line, col } = e.pos!.src.lineCol(e.pos!.off);
  assert.deepEqual([line, col], [1, 23]);
  // As Nix 2.8 reads a file's lines: one without a newline at its end is not shown.
  assert.equal(e.format({ showTrace: false }), `error: ${e.message}\n\n       at /dir/f.nix:1:23:\n`);
  assert.match(
    parseError('let x = 1; in { a = x }\n').format({ showTrace: false }),
    /at \/dir\/f.nix:1:23:\n\n +1\| let x = 1; in \{ a = x \}\n +\| +\^\n$/,
  );
  assert.equal(parseError('"abc').message, "syntax error, unexpected end of file, expecting '\"'");
  assert.match(parseError('(1').message, /unexpected end of file, expecting '\)'/);
});

test('comments and whitespace', () => {
  assert.equal(evalPrint('/* a */ 1 # b\n + /* c */ 2'), '3');
});

test('a literal string ends at a NUL byte (Nix 2.8 keeps literals as C strings)', () => {
  assert.equal(evalPrint('"foo\0bar"'), '"foo"');
  assert.equal(evalPrint("''\n  foo\n  \0\n  bar\n''"), '"foo\\n"');
});

/** A parse error's message and where it is, as line:col (each read off nix-instantiate 2.8). */
function errorAt(text: string): string {
  const e = parseError(text);
  const { line, col } = e.pos!.src.lineCol(e.pos!.off);
  return `${e.message} @${line}:${col}`;
}

function checkErrors(cases: [string, string][]): void {
  for (const [text, want] of cases)
    assert.equal(errorAt(text), `syntax error, ${want}`, JSON.stringify(text));
}

test('legacy `let { }` is a simple expression: as an argument or an element, `let` needs `{`', () => {
  checkErrors([
    ['isN let ', "unexpected end of file, expecting '{' @1:8"],
    ['m< 1 [let ', "unexpected end of file, expecting '{' @1:10"],
    ['f let in', "unexpected IN, expecting '{' @1:7"],
    ['[ 0.1let 1 ]', "unexpected INT, expecting '{' @1:10"],
    ['1 + let x = 1; in x', "unexpected ID, expecting '{' @1:9"],
  ]);
  assert.equal(evalPrint('[ let { body = 1; } ]'), '[ 1 ]');
});

test('formals: after `{` or `,` only a name, `...` or `}`; `{ name }` is formals before anything', () => {
  checkErrors([
    ['({ a, 1b }: a)', "unexpected INT, expecting '}' @1:7"],
    ['({ a, , b }: a)', "unexpected ',', expecting '}' @1:7"],
    ['(x@{ .@{ ... }: x)', "unexpected '.', expecting '}' @1:6"],
    ['{ a, inherit }: a', "unexpected INHERIT, expecting '}' @1:6"],
    ['({ a }!: a) 1', "unexpected '!', expecting ':' or '@' @1:7"],
    ['({ a } // { })', "unexpected UPDATE, expecting ':' or '@' @1:8"],
    ['{ a }', "unexpected end of file, expecting ':' or '@' @1:5"],
    ['x@{ a } x', "unexpected ID, expecting ':' @1:9"],
    // A set, not formals: a name without `.` or `=`, and a function's argument.
    ['{ a b }', "unexpected ID, expecting '.' or '=' @1:5"],
    ['f { a }: 1', "unexpected '}', expecting '.' or '=' @1:7"],
    ['f { a, b }: 1', "unexpected ',', expecting '.' or '=' @1:6"],
    ['f { }: 1', "unexpected ':', expecting end of file @1:6"],
  ]);
});

test('a string cut by the end of the file after a lone `$` or `\\` has two pieces', () => {
  checkErrors([
    ['"a$', `unexpected STR, expecting '"' @1:3`],
    ['"a\\', `unexpected STR, expecting '"' @1:3`],
    ['"a$\\', `unexpected STR, expecting '"' @1:3`],
    ['"$', `unexpected end of file, expecting '"' @1:2`],
    ['"${x}a$', `unexpected end of file, expecting '"' @1:7`],
  ]);
});

test("path text after a path's slash must lead to an interpolation", () => {
  checkErrors([
    ['/tix/case//m//more', 'unexpected STR, expecting DOLLAR_CURLY @1:14'],
    ['/a//b', 'unexpected PATH_END, expecting DOLLAR_CURLY @1:1'],
    ['(/a//b)', 'unexpected PATH_END, expecting DOLLAR_CURLY @1:5'],
    ['[ /a/b', 'unexpected end of file @1:2'],
  ]);
  // A token the parser refuses is reported before the lexer's refusal of what follows it.
  checkErrors([['{ ./a/ = 1; }', 'unexpected PATH @1:3']]);
  assert.equal(errorAt('x: ./a/'), 'path has a trailing slash @1:4');
});
