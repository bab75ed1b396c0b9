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

test('errors carry line:col', () => {
  const bad: [string, string][] = [
    ['a = 1\na = 2', "duplicate key 'a' at 2:1"],
    ['a = 1\n[a]', "cannot define table 'a' again at 2:1"],
    ['[t]\n[t]', "cannot define table 't' again at 2:1"],
    ['a = "x', 'unterminated string at 1:7'],
    ['a = 01', "invalid value '01' at 1:5"],
    ['a = 1 b = 2', 'expected the end of the line at 1:7'],
    ['a = [1 2]', "expected ',' or ']' in array at 1:8"],
    ['a = "\\q"', "invalid escape '\\q' at 1:7"],
    ['a', "expected '=' after a key at 1:2"],
    ['a = {b = 1}\na.c = 2', "cannot define key 'a' again at 2:1"],
  ];
  for (const [src, msg] of bad) {
    assert.throws(
      () => parseToml(src),
      (e: unknown) => e instanceof TomlError && e.message === `cannot parse TOML: ${msg}`,
      src,
    );
  }
});

test('[table] after [a.b] defines the implicit parent', () => {
  const t = parseToml('[a.b]\nx = 1\n[a]\ny = 2');
  assert.equal(show(t), '{ a = { b = { x = 1; }; y = 2; }; }');
});
