// Expected values follow Nix 2.8's builtins.fromTOML (observed with nix-instantiate --eval --strict).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseToml, TomlError, type TomlValue } from './toml.js';

/** Renders a tree like Nix prints the value it becomes (floats via String, enough here). */
function show(v: TomlValue): string {
  switch (v.t) {
    case 'int':
      return v.v.toString();
    case 'float':
      return `${String(v.v)}f`;
    case 'string':
      return JSON.stringify(v.v);
    case 'bool':
      return String(v.v);
    case 'array':
      return `[ ${v.v.map((x) => `${show(x)} `).join('')}]`;
    case 'table':
      return `{ ${[...v.v.keys()]
        .sort()
        .map((k) => `${k} = ${show(v.v.get(k)!)}; `)
        .join('')}}`;
  }
}

const sample = `a = 1
b = 1.5
c = "x\\u00e9\\t"
d = [1, "a", 2.0]
f = inf
g = -nan
h = 0x1F
i = 0o17
j = 0b101
k = 1_000
l = 1e3
l3 = +5
m = 'lit\\n'
n = """
ml\\
  cont"""
n2 = '''
raw\\n'''
o = {a.b = 1, c = []}
p.q.r = 2
"q k" = 3 # comment
'' = 4
[t]
e = true
[[arr]]
x=1
[[arr]]
x=2
[arr.sub]
y = 3
[t.u]
v = false
`;

test('parses every TOML 1.0 value kind', () => {
  const got = show(parseToml(sample));
  assert.equal(
    got,
    '{  = 4; a = 1; arr = [ { x = 1; } { sub = { y = 3; }; x = 2; } ]; b = 1.5f; c = "xÃ©\\t"; ' +
      'd = [ 1 "a" 2f ]; f = Infinityf; g = NaNf; h = 31; i = 15; j = 5; k = 1000; l = 1000f; l3 = 5; ' +
      'm = "lit\\\\n"; n = "mlcont"; n2 = "raw\\\\n"; o = { a = { b = 1; }; c = [ ]; }; p = { q = { r = 2; }; }; ' +
      'q k = 3; t = { e = true; u = { v = false; }; }; }',
  );
});

test('clamps integers to 64 bits like Nix 2.8', () => {
  const t = parseToml('a = 9223372036854775808\nb = -9223372036854775809');
  assert.deepEqual(t.v.get('a'), { t: 'int', v: 9223372036854775807n });
  assert.deepEqual(t.v.get('b'), { t: 'int', v: -9223372036854775808n });
});

test('rejects dates and times like Nix 2.8', () => {
  for (const v of ['1979-05-27T07:32:00Z', '1979-05-27', '07:32:00', '1979-05-27 07:32:00']) {
    assert.throws(() => parseToml(`a = ${v}`), {
      code: 'TOML_DATETIME',
      message: 'Dates and times are not supported',
    });
  }
});

test('multi-line strings keep up to two quotes before the closing delimiter', () => {
  const t = parseToml("a = \"\"\"x\"\"\"\"\nb = '''y'''''");
  assert.deepEqual(t.v.get('a'), { t: 'string', v: 'x"' });
  assert.deepEqual(t.v.get('b'), { t: 'string', v: "y''" });
});

/** The first line of the error parseToml throws for `src`. */
function firstLine(src: string): string {
  try {
    parseToml(src);
  } catch (e) {
    assert.ok(e instanceof TomlError, String(e));
    return e.message.split('\n')[0]!;
  }
  return 'no error';
}

test("malformed TOML fails with toml11's first line, as Nix 2.8 reports it", () => {
  const bad: [string, string][] = [
    // keys and key-value pairs
    ['=x1f', 'toml::parse_key_value_pair: empty key is not allowed.'],
    ['k* = "a\\u0000b"', 'toml::parse_key_value_pair: invalid format for key'],
    ['http://x = 1', 'toml::parse_key_value_pair: invalid format for key'],
    ['re a = 1\na = 2', 'toml::parse_key_value_pair: invalid format for key'],
    ['./a =', 'toml::parse_key: an invalid key appeared.'],
    ['||= 0x1f', 'toml::parse_key: an invalid key appeared.'],
    ['a', 'toml::parse_key_value_pair: missing key-value separator `=`'],
    ['a =', "toml::parse_key_value_pair: missing value after key-value separator '='"],
    ['x = 0x1ftrue', 'toml::parse_table: invalid line format'],
    ['a = 1 b = 2', 'toml::parse_table: invalid line format'],
    ['a = 1\r', 'toml::parse_table: invalid line format'],
    ['[a] b', 'toml::parse_table_key: newline required after [table.key]'],
    ['[[a]] b', 'toml::parse_array_table_key: newline required after [[table.key]]'],
    // strings
    ['k = "a\\\'u0000b"', 'toml::parse_basic_string: the next token is not a valid string'],
    ['a = "x', 'toml::parse_basic_string: the next token is not a valid string'],
    ['a = """x', 'toml::parse_ml_basic_string: the next token is not a valid multiline string'],
    ["a = '''x", 'toml::parse_ml_literal_string: the next token is not a valid multiline literal string'],
    [
      'a = "\\uD800"',
      'toml::read_utf8_codepoint: codepoints in the range [0xD800, 0xDFFF] are not valid UTF-8.',
    ],
    ['a = "\\U00110000"', 'toml::read_utf8_codepoint: input codepoint is too large.'],
    ['a = "x\xff"', 'parse_ml_basic_string: invalid utf8 sequence found'],
    // numbers, booleans, dates
    ['a = 01', 'bad integer: leading zero'],
    ['a = 1__0', 'bad integer: `_` should be surrounded by digits'],
    ['a = 1.', 'bad float: invalid format'],
    ['a = .5', 'bad float: invalid format'],
    ['a = 0x', 'toml::parse_hexadecimal_integer'],
    ['a = 0a', 'toml::parse_integer: unknown integer prefix appeared.'],
    ['a = tru', 'toml::parse_boolean: '],
    ['a = in', 'toml::parse_floating: '],
    ['b = }', 'bad format: unknown value appeared'],
    ['a = 12:30', 'bad datetime: invalid format'],
    ['a = 1979-05-27T07:32', 'bad time: should be HH:MM:SS.subsec'],
    ['a = 1979-13-27', 'toml::parse_date: invalid date: it does not conform RFC3339.'],
    ['a = 24:00:00', 'toml::parse_time: invalid time: it does not conform RFC3339.'],
    // arrays and inline tables
    ['a = [1 2]', 'toml::parse_array: missing array separator `,` after a value'],
    ['a = [1,', 'toml::parse_array: value having invalid format appeared in an array'],
    ['a = {b = 1,}', 'toml::parse_inline_table: trailing comma is not allowed in an inline table'],
    ['a = {b = 1 c = 2}', 'toml::parse_inline_table: missing table separator `,` '],
    ['a = {b = 1', 'toml::parse_inline_table: missing curly brace `}`'],
    // redefinitions
    ['a = 1\na = 2', 'toml::insert_value: value ("a") already exists.'],
    ['a = 1\n[a]', 'toml::insert_value: value ("a") already exists.'],
    ['[t]\n[t]', 'toml::insert_value: table ("t") already exists.'],
    ['[[a.b]]\n[a]', 'toml::insert_value: table ("a") already exists.'],
    ['[a.b]\nc = 1\n[a]\nb = 2', 'toml::insert_value: value ("a") already exists.'],
    [
      'a = {b = 1}\na.c = 2',
      'toml::insert_value: inserting to an inline table (a) but inline tables are immutable',
    ],
    ['a = 1\na.b = 2', 'toml::insert_value: target (a) is neither table nor an array of tables'],
    ['a = [{}]\n[[a]]', 'toml::insert_value: array of table ("a") collides with existing array-of-tables'],
    ['a = 1\n[[a]]', 'toml::insert_value: array of table ("a") collides with existing value'],
    ['[a]\n[[a]]', 'toml::insert_value: array of table ("a") cannot be defined'],
    ['[[a]]\n[a]', 'toml::insert_value: array of tables ("a") already exists.'],
  ];
  for (const [src, msg] of bad) assert.equal(firstLine(src), `[error] ${msg}`, src);
});

test('an error goes on to point at its places, as toml11 lays them out', () => {
  assert.throws(() => parseToml('a = 1\nb = [1, 2\nc = 3'), {
    message: [
      '[error] toml::parse_array: missing array separator `,` after a value',
      ' --> fromTOML',
      '   |',
      ' 2 | b = [1, 2',
      '   |     ^--- array starts here',
      ' ...',
      ' 3 | c = 3',
      '   | ^--- should be `,`',
    ].join('\n'),
  });
  assert.throws(() => parseToml('./a ='), {
    message: [
      '[error] toml::parse_key: an invalid key appeared.',
      ' --> fromTOML',
      '   |',
      ' 1 | ./a =',
      '   | ^--- is not a valid key',
      '   |',
      'Hint: bare keys  : non-empty strings composed only of [A-Za-z0-9_-].',
      'Hint: quoted keys: same as "basic strings" or \'literal strings\'.',
      'Hint: dotted keys: sequence of bare or quoted keys joined with a dot.',
    ].join('\n'),
  });
  // A key's NUL ends the message, as Nix 2.8 passes it on as a C string.
  assert.equal(firstLine('"a\\u0000b" = 1\n"a\\u0000b" = 2'), '[error] toml::insert_value: value ("a');
});

test('numbers at the edges read as Nix 2.8 reads them', () => {
  const t = parseToml(
    `b = 0b1${'0'.repeat(63)}\nh = 0xffffffffffffffff\no = 0o7777777777777777777777\n` +
      'f = 1e400\ng = -1e400\nz = 1e-400\nn = -nan',
  );
  assert.deepEqual(t.v.get('b'), { t: 'int', v: -9223372036854775808n }); // summed in an int64
  assert.deepEqual(t.v.get('h'), { t: 'int', v: 9223372036854775807n });
  assert.deepEqual(t.v.get('o'), { t: 'int', v: 9223372036854775807n });
  assert.deepEqual(t.v.get('f'), { t: 'float', v: Number.MAX_VALUE });
  assert.deepEqual(t.v.get('g'), { t: 'float', v: -Number.MAX_VALUE });
  assert.deepEqual(t.v.get('z'), { t: 'float', v: 0 });
  const n = t.v.get('n') as { v: number };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, n.v);
  assert.ok(Number.isNaN(n.v) && view.getUint8(0) >= 0x80, '-nan keeps its sign');
});

test('tables may be extended as toml11 allows', () => {
  assert.equal(show(parseToml('a.b.c = 1\n[a]\nd = 2')), '{ a = { b = { c = 1; }; d = 2; }; }');
  assert.equal(show(parseToml('[a]\nb.c = 1\n[a.b]\nd = 2')), '{ a = { b = { c = 1; d = 2; }; }; }');
  assert.equal(show(parseToml('a = [{b = 1}]\na.x = 2')), '{ a = [ { b = 1; x = 2; } ]; }');
});

test('[table] after [a.b] defines the implicit parent', () => {
  const t = parseToml('[a.b]\nx = 1\n[a]\ny = 2');
  assert.equal(show(t), '{ a = { b = { x = 1; }; y = 2; }; }');
});
