// builtins.fromTOML's parser. Nix 2.8 reads TOML with toml11 3.7 and reports its errors word for word,
// so this parser follows toml11's parser.hpp rule by rule: the same order of attempts decides which
// error a malformed document gets. Each function names the toml11 function it mirrors. Behaviour of
// Nix 2.8 that it keeps besides TOML 1.0:
// - dates and times parse, then fromTOML refuses them ("Dates and times are not supported");
// - decimal, octal and hexadecimal integers beyond 64 bits stop at the nearest bound, binary ones wrap;
// - a table given by dotted keys may be extended by a [header] later, an array of inline tables by
//   dotted keys and headers; redefinitions are judged by the text that defined a table (its region).
// Input and output strings are byte strings (one char per byte).
import { Fail, pointAt, type Spot, span, syntaxError, TomlError } from './toml-error.js';
import { insertNestedKey, type Table } from './toml-insert.js';
import { type Key, parseHeader, parseKey } from './toml-key.js';
import * as lex from './toml-lex.js';
import {
  Cursor,
  type Node,
  parseBoolean,
  parseFloating,
  parseInteger,
  parseLocalDate,
  parseLocalDatetime,
  parseLocalTime,
  parseOffsetDatetime,
  parseString,
} from './toml-scalar.js';

export { TomlError } from './toml-error.js';

export type TomlValue =
  | { t: 'int'; v: bigint }
  | { t: 'float'; v: number }
  | { t: 'string'; v: string }
  | { t: 'bool'; v: boolean }
  | { t: 'array'; v: TomlValue[] }
  | { t: 'table'; v: Map<string, TomlValue> };

type TableNode = Extract<Node, { t: 'table' }>;
interface KeyValue {
  key: Key;
  value: Node;
}

export function parseToml(input: string): { t: 'table'; v: Map<string, TomlValue> } {
  // toml::parse: a last newline is added unless the text ends with one (or with CR); a BOM is skipped.
  const s = input.length > 0 && !input.endsWith('\n') && !input.endsWith('\r') ? `${input}\n` : input;
  const c = new Cursor(s, s.startsWith('\xef\xbb\xbf') ? 3 : 0);
  return toValue({ t: 'table', v: parseTomlFile(c), r: span(s, 0, 0) }) as {
    t: 'table';
    v: Map<string, TomlValue>;
  };
}

/** What fromTOML makes of the tree: like Nix 2.8's visit, it refuses any date or time. */
function toValue(n: Node): TomlValue {
  switch (n.t) {
    case 'int':
    case 'float':
    case 'string':
    case 'bool':
      return { t: n.t, v: n.v } as TomlValue;
    case 'array':
      return { t: 'array', v: n.v.map(toValue) };
    case 'table': {
      const m = new Map<string, TomlValue>();
      for (const [k, v] of n.v) m.set(k, toValue(v));
      return { t: 'table', v: m };
    }
    default:
      throw new TomlError('TOML_DATETIME', 'Dates and times are not supported');
  }
}

/** parse_key_value_pair: a failure is worded by what follows the key or the '='. */
function parseKeyValuePair(c: Cursor): KeyValue | Fail {
  const s = c.s;
  const first = c.i;
  const key = parseKey(c);
  if (key instanceof Fail) {
    if (lex.keyvalSep(s, c.i) < 0) return key;
    return new Fail('toml::parse_key_value_pair: empty key is not allowed.', [
      [c.here(), "key expected before '='"],
    ]);
  }
  if (!c.skip(lex.keyvalSep)) {
    const lineEnd = s.indexOf('\n', c.i);
    const fail = s.slice(c.i, lineEnd < 0 ? s.length : lineEnd).includes('=')
      ? new Fail(
          'toml::parse_key_value_pair: invalid format for key',
          [[c.here(), 'invalid character in key']],
          [
            "Did you forget '.' to separate dotted-key?",
            'Allowed characters for bare key are [0-9a-zA-Z_-].',
          ],
        )
      : new Fail('toml::parse_key_value_pair: missing key-value separator `=`', [
          [c.here(), 'should be `=`'],
        ]);
    c.i = first;
    return fail;
  }
  const afterSep = c.i;
  const value = parseValue(c);
  if (value instanceof Fail) {
    c.i = first;
    if (lex.blankLine(s, afterSep) < 0) return value;
    return new Fail("toml::parse_key_value_pair: missing value after key-value separator '='", [
      [pointAt(s, afterSep), 'expected value, but got nothing'],
    ]);
  }
  return { key, value };
}

// --- values

const FLOAT_HINTS = [
  'pass: +1.0, -2e-2, 3.141_592_653_589, inf, nan',
  'fail: .0, 1., _1.0, 1.0_, 1_.0, 1.0__0',
];
const INT_HINTS = ['pass: -42, 1_000, 1_2_3_4_5, 0xC0FFEE, 0b0010, 0o755', 'fail: 1__000, 0123'];
const TIME_HINT = 'pass: 1979-05-27T07:32:00, 1979-05-27 07:32:00.999999';

type ValueKind = Node['t'];

/** guess_number_type: which number or date-time starts here, or which common mistake. */
function guessNumberType(s: string, i: number): ValueKind | Fail {
  const bad = (msg: string, at: number, comment: string, hints: string[] = []) =>
    new Fail(msg, [[pointAt(s, at), comment]], hints);
  if (lex.offsetDateTime(s, i) >= 0) return 'offset_datetime';
  let e = lex.localDateTime(s, i);
  if (e >= 0) {
    if ('+-Zz'.includes(s[e] ?? 'x'))
      return bad('bad offset: should be [+-]HH:MM or Z', e, '[+-]HH:MM or Z', [
        'pass: +09:00, -05:30',
        'fail: +9:00, -5:30',
      ]);
    return 'local_datetime';
  }
  e = lex.localDate(s, i);
  if (e >= 0) {
    const next = s[e] ?? '';
    if (next === 'T' || next === 't')
      return bad('bad time: should be HH:MM:SS.subsec', e, 'HH:MM:SS.subsec', [
        TIME_HINT,
        'fail: 1979-05-27T7:32:00, 1979-05-27 17:32',
      ]);
    if (/[0-9]/.test(next))
      return bad('bad time: missing T', e, 'T or space required here', [
        TIME_HINT,
        'fail: 1979-05-27T7:32:00, 1979-05-27 7:32',
      ]);
    if (next === ' ' && /[0-9]/.test(s[e + 1] ?? ''))
      return bad('bad time: should be HH:MM:SS.subsec', e + 1, 'HH:MM:SS.subsec', [
        TIME_HINT,
        'fail: 1979-05-27T7:32:00, 1979-05-27 7:32',
      ]);
    return 'local_date';
  }
  if (lex.localTime(s, i) >= 0) return 'local_time';
  e = lex.float(s, i);
  if (e >= 0) {
    if (s[e] === '_') return bad('bad float: `_` should be surrounded by digits', e, 'here', FLOAT_HINTS);
    return 'float';
  }
  e = lex.integer(s, i);
  if (e >= 0) {
    const next = s[e] ?? '';
    if (next === '_') return bad('bad integer: `_` should be surrounded by digits', e, 'here', INT_HINTS);
    if (/[0-9]/.test(next)) return bad('bad integer: leading zero', e - 1, 'here', INT_HINTS);
    if (next === ':' || next === '-')
      return bad('bad datetime: invalid format', e, 'here', [
        'pass: 1979-05-27T07:32:00-07:00, 1979-05-27 07:32:00.999999Z',
        'fail: 1979-05-27T7:32:00-7:00, 1979-05-27 7:32-00:30',
      ]);
    if (next === '.' || next === 'e' || next === 'E')
      return bad('bad float: invalid format', e, 'here', FLOAT_HINTS);
    return 'int';
  }
  if (s[i] === '.')
    return bad('bad float: invalid format', i, 'integer part required before this', FLOAT_HINTS);
  if (s[i] === '_')
    return bad(
      'bad number: `_` should be surrounded by digits',
      i,
      '`_` is not surrounded by digits',
      INT_HINTS,
    );
  return bad('bad format: unknown value appeared', i, 'here');
}

const BY_FIRST_CHAR: Record<string, ValueKind> = {
  '"': 'string',
  "'": 'string',
  t: 'bool',
  f: 'bool',
  '[': 'array',
  '{': 'table',
  i: 'float',
  n: 'float',
};

/** guess_value_type: the first character decides, except for numbers and date-times. */
function guessValueType(s: string, i: number): ValueKind | Fail {
  return BY_FIRST_CHAR[s[i]!] ?? guessNumberType(s, i);
}

const PARSE: Record<ValueKind, (c: Cursor) => Node | Fail> = {
  bool: parseBoolean,
  int: parseInteger,
  float: parseFloating,
  string: parseString,
  offset_datetime: parseOffsetDatetime,
  local_datetime: parseLocalDatetime,
  local_date: parseLocalDate,
  local_time: parseLocalTime,
  array: (c) => parseArray(c),
  table: (c) => parseInlineTable(c),
};

/** parse_value. */
function parseValue(c: Cursor): Node | Fail {
  if (c.atEnd) return new Fail('toml::parse_value: input is empty', [[c.here(), '']]);
  const kind = guessValueType(c.s, c.i);
  if (kind instanceof Fail) return kind;
  return PARSE[kind](c);
}

/** parse_array: once inside the brackets, every failure is final. */
function parseArray(c: Cursor): Node {
  const s = c.s;
  const first = c.i++;
  const items: Node[] = [];
  const done = (): Node => ({ t: 'array', v: items, r: span(s, first, ++c.i) });
  const starts: [Spot, string] = [pointAt(s, first), 'array starts here'];
  while (!c.atEnd) {
    c.i = lex.skipWsCommentNewline(s, c.i);
    if (s[c.i] === ']') return done();
    const v = parseValue(c);
    if (v instanceof Fail)
      throw syntaxError('toml::parse_array: value having invalid format appeared in an array', [
        starts,
        [c.here(), 'it is not a valid value.'],
      ]);
    items.push(v);
    const sep = lex.skipWsCommentNewline(s, c.i);
    if (s[sep] === ',') {
      c.i = sep + 1;
      continue;
    }
    c.i = sep;
    if (s[c.i] === ']') return done();
    throw syntaxError('toml::parse_array: missing array separator `,` after a value', [
      starts,
      [c.here(), 'should be `,`'],
    ]);
  }
  throw syntaxError('toml::parse_array: array did not closed by `]`', [
    [pointAt(s, first), 'should be closed'],
  ]);
}

/** parse_inline_table: a failing key-value pair is passed on; a bad separator is final. */
function parseInlineTable(c: Cursor): Node | Fail {
  const s = c.s;
  const first = c.i;
  if (s[first] !== '{')
    return new Fail('toml::parse_inline_table: ', [[c.here(), 'the next token is not an inline table']]);
  const table: Table = new Map();
  const done = (): Node => ({ t: 'table', v: table, r: span(s, first, ++c.i) });
  c.i = lex.skipWs(s, c.i + 1);
  if (s[c.i] === '}') return done();
  while (!c.atEnd) {
    const kv = parseKeyValuePair(c);
    if (kv instanceof Fail) return kv;
    insertNestedKey(table, kv.value, kv.key, false);
    const sep = lex.skipWs(s, c.i);
    if (s[sep] === ',') {
      c.i = lex.skipWs(s, sep + 1);
      if (s[c.i] === '}')
        throw syntaxError('toml::parse_inline_table: trailing comma is not allowed in an inline table', [
          [c.here(), 'should be `}`'],
        ]);
      continue;
    }
    c.i = sep;
    if (c.atEnd)
      throw syntaxError('toml::parse_inline_table: missing table separator `}` ', [
        [c.here(), 'should be `}`'],
      ]);
    if (s[c.i] === '}') return done();
    if ('#\r\n'.includes(s[c.i]!))
      throw syntaxError('toml::parse_inline_table: missing curly brace `}`', [[c.here(), 'should be `}`']]);
    throw syntaxError('toml::parse_inline_table: missing table separator `,` ', [
      [c.here(), 'should be `,`'],
    ]);
  }
  throw syntaxError('toml::parse_inline_table: inline table did not closed by `}`', [
    [pointAt(s, first), 'should be closed'],
  ]);
}

// --- tables and the document

/** isgraph, or the byte in hex (show_char). */
const showChar = (ch: string) =>
  /[!-~]/.test(ch) ? ch : `0x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** parse_ml_table: the key-value lines up to the next header, each ending its line. */
function parseMlTable(c: Cursor): Table | Fail {
  const table: Table = new Map();
  if (c.atEnd) return table;
  c.skip(lex.blankLines);
  c.skip(lex.ws);
  while (!c.atEnd) {
    c.skip(lex.ws);
    const before = c.i;
    const header =
      c.s[c.i] === '[' &&
      (!(parseHeader(c, true) instanceof Fail) || !(parseHeader(c, false) instanceof Fail));
    if (header) {
      c.i = before;
      return table;
    }
    const kv = parseKeyValuePair(c);
    if (kv instanceof Fail) return kv;
    insertNestedKey(table, kv.value, kv.key, false);
    c.skip(lex.ws);
    c.skip(lex.comment);
    if (!c.skip(lex.blankLines) && !c.atEnd) {
      const at = lex.skipWs(c.s, c.i);
      return new Fail('toml::parse_table: invalid line format', [
        [pointAt(c.s, at), `expected newline, but got '${showChar(c.s[at] ?? '')}'.`],
      ]);
    }
    c.skip(lex.ws);
    c.skip(lex.comment);
  }
  return table;
}

/** parse_toml_file: the top-level table, then each [header] or [[header]] with its lines. */
function parseTomlFile(c: Cursor): Table {
  const orThrow = <T>(x: T | Fail): T => {
    if (x instanceof Fail) throw x.error();
    return x;
  };
  const root = orThrow(parseMlTable(c));
  while (!c.atEnd) {
    const arrayKey = parseHeader(c, true);
    const array = !(arrayKey instanceof Fail);
    const key = array ? arrayKey : parseHeader(c, false);
    if (key instanceof Fail)
      throw new Fail('toml::parse_toml_file: unknown line appeared', [[c.here(), 'unknown format']]).error();
    const body: TableNode = { t: 'table', v: orThrow(parseMlTable(c)), r: key.r };
    insertNestedKey(root, body, key, array);
  }
  return root;
}
