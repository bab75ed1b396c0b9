// fromJSON's values, and its errors worded as Nix 2.8 (nlohmann::json 3.11) words them; the
// messages were observed with nix-instantiate 2.8.0. eval-stderr.test.ts compares more of them
// with Nix itself when it is installed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NixEvalError } from './errors.js';
import { fromJSON } from './from-json.js';
import { type Attrs, NixFloat } from './value.js';

function jsonError(text: string): NixEvalError {
  try {
    fromJSON(text);
  } catch (e) {
    if (e instanceof NixEvalError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(text)} to fail`);
}

const parseError = (where: string, what: string) =>
  `[json.exception.parse_error.101] parse error at ${where}: syntax error while parsing ${what}`;

test('fromJSON reads values as Nix 2.8 does', () => {
  assert.deepEqual(fromJSON(' [1, -2, true, false, null, "a\\n\\u00e9"] '), [
    1,
    -2,
    true,
    false,
    null,
    'a\n\xc3\xa9',
  ]);
  // unsigned 64-bit integers wrap to signed ones; beyond 64 bits they are floats
  assert.deepEqual(fromJSON('[18446744073709551615, 9223372036854775808, -0]'), [
    -1,
    -9223372036854775808n,
    0,
  ]);
  assert.ok(Object.is(fromJSON('-0'), 0));
  assert.deepEqual(fromJSON('18446744073709551616'), new NixFloat(2 ** 64));
  assert.deepEqual(fromJSON('[1.5e3, 1e-400]'), [new NixFloat(1500), new NixFloat(0)]);
  // a surrogate pair is one code point, written as UTF-8 bytes
  assert.equal(fromJSON('"\\ud83d\\ude00"'), '\xf0\x9f\x98\x80');
  // strings end at a NUL, names keep it (attrNames cuts it); of repeated names the last wins
  const set = fromJSON('{"a\\u0000b": "c\\u0000d", "x": 1, "x": 2}') as Attrs;
  assert.deepEqual(set.m.names, ['a\0b', 'x']);
  assert.deepEqual(set.m.vals, ['c', 2]);
  // a UTF-8 byte order mark is skipped
  assert.equal(fromJSON('\xef\xbb\xbf7'), 7);
});

test('fromJSON nests without limit', () => {
  const depth = 200000;
  let v = fromJSON(`${'['.repeat(depth)}${']'.repeat(depth)}`) as unknown[];
  let n = 1;
  while (v.length > 0) {
    v = v[0] as unknown[];
    n++;
  }
  assert.equal(n, depth);
});

test('fromJSON reports the position as nlohmann counts it', () => {
  // reading past the end counts as a column
  assert.equal(
    jsonError('{').message,
    `${parseError('line 1, column 2', 'object key')} - unexpected end of input; expected string literal`,
  );
  // a newline starts a new line
  assert.equal(
    jsonError('[1,\n2\n').message,
    `${parseError('line 3, column 1', 'array')} - unexpected end of input; expected ']'`,
  );
  // the newline after a number is read and given back: column 0
  assert.equal(
    jsonError('{"a" 1\n}').message,
    `${parseError('line 1, column 0', 'object separator')} - unexpected number literal; expected ':'`,
  );
});

test('fromJSON shows what it last read since a string or number began', () => {
  assert.equal(
    jsonError('[1, nul').message,
    `${parseError('line 1, column 8', 'value')} - invalid literal; last read: '1, nul'`,
  );
  assert.equal(
    jsonError('1\n\x01').message,
    `${parseError('line 2, column 1', 'value')} - invalid literal; last read: '1<U+000A><U+0001>'; expected end of input`,
  );
  assert.equal(
    jsonError('"a\tb"').message,
    `${parseError('line 1, column 3', 'value')} - invalid string: control character U+0009 (HT) must be escaped to \\u0009 or \\t; last read: '"a<U+0009>'`,
  );
  assert.equal(
    jsonError('"\xe0\x80"').message,
    `${parseError('line 1, column 3', 'value')} - invalid string: ill-formed UTF-8 byte; last read: '"\xe0\x80'`,
  );
  assert.equal(
    jsonError('[1e5.]').message,
    `${parseError('line 1, column 5', 'array')} - invalid literal; last read: '1e5.'; expected ']'`,
  );
});

test('fromJSON fails on a number too large for a float without a position', () => {
  const e = jsonError('[1, 1e400]');
  assert.equal(e.message, "[json.exception.out_of_range.406] number overflow parsing '1e400'");
  // Nix 2.8 places the error at the call only in a trace
  assert.equal(e.pos, undefined);
  assert.deepEqual(
    e.trace.map((f) => f.message),
    ['while decoding a JSON string'],
  );
});
