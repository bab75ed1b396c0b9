// The scalar values of Nix 2.8's TOML reader (toml11 3.7, parser.hpp): booleans, integers, floats,
// the four kinds of strings, and date-times (parsed and checked, then refused by fromTOML). Each
// parse function mirrors the toml11 function named in its comment: the same token rule decides
// whether it applies, and a failure carries the same message.
import { Fail, pointAt, type Spot, span, syntaxError } from './toml-error.js';
import * as lex from './toml-lex.js';

/** A reading position in a text of bytes (toml11's `location`). */
export class Cursor {
  constructor(
    readonly s: string,
    public i = 0,
  ) {}
  get atEnd(): boolean {
    return this.i >= this.s.length;
  }
  /** Advances over the token `rule` matches here, returning its span; or stays and returns undefined. */
  take(rule: lex.Rule): Spot | undefined {
    const end = rule(this.s, this.i);
    if (end < 0) return undefined;
    const r = span(this.s, this.i, end);
    this.i = end;
    return r;
  }
  /** Advances over the token `rule` matches here, if any; whether it did. */
  skip(rule: lex.Rule): boolean {
    const end = rule(this.s, this.i);
    if (end >= 0) this.i = end;
    return end >= 0;
  }
  here(): Spot {
    return pointAt(this.s, this.i);
  }
}

export type DateKind = 'offset_datetime' | 'local_datetime' | 'local_date' | 'local_time';

/** A parsed value with the span of text it came from, which later redefinition checks look at. */
export type Node =
  | { t: 'int'; v: bigint; r: Spot }
  | { t: 'float'; v: number; r: Spot }
  | { t: 'string'; v: string; r: Spot }
  | { t: 'bool'; v: boolean; r: Spot }
  | { t: DateKind; r: Spot }
  | { t: 'array'; v: Node[]; r: Spot }
  | { t: 'table'; v: Map<string, Node>; r: Spot };

export const text = (r: Spot) => r.src.slice(r.first, r.last);

/** toml11's name for a value's type, as its messages show it. */
export function typeName(n: Node): string {
  const names: Record<string, string> = { int: 'integer', float: 'floating', bool: 'boolean' };
  return names[n.t] ?? n.t;
}

/** parse_boolean. */
export function parseBoolean(c: Cursor): Node | Fail {
  const r = c.take(lex.boolean);
  if (!r) return new Fail('toml::parse_boolean: ', [[c.here(), 'the next token is not a boolean']]);
  return { t: 'bool', v: text(r) === 'true', r };
}

const MAX = (1n << 63n) - 1n;
const MIN = -(1n << 63n);
/** Reading an integer with `istream >>` stops an overflow at the nearest 64-bit bound. */
const clamp = (n: bigint) => (n > MAX ? MAX : n < MIN ? MIN : n);

/** parse_binary_integer, parse_octal_integer, parse_hexadecimal_integer (their messages differ). */
function parseRadix(c: Cursor, radix: 'b' | 'o' | 'x'): Node | Fail {
  const rule = { b: lex.binInt, o: lex.octInt, x: lex.hexInt }[radix];
  const r = c.take(rule);
  if (!r) {
    const name = {
      b: 'toml::parse_binary_integer:',
      o: 'toml::parse_octal_integer:',
      x: 'toml::parse_hexadecimal_integer',
    };
    return new Fail(name[radix], [[c.here(), 'the next token is not an integer']]);
  }
  const n = BigInt(`0${radix}${text(r).slice(2).replaceAll('_', '')}`);
  // Binary is summed bit by bit in an int64, which wraps; the others are read by `istream >>`.
  return { t: 'int', v: radix === 'b' ? BigInt.asIntN(64, n) : clamp(n), r };
}

/** parse_integer. */
export function parseInteger(c: Cursor): Node | Fail {
  const s = c.s;
  if (s[c.i] === '0') {
    const second = s[c.i + 1];
    if (second === undefined) {
      const r = span(s, c.i, ++c.i);
      return { t: 'int', v: 0n, r };
    }
    if (second === 'b' || second === 'o' || second === 'x') return parseRadix(c, second);
    if (/[0-9]/.test(second))
      return new Fail('toml::parse_integer: leading zero in an Integer is not allowed.', [
        [c.here(), 'leading zero'],
      ]);
    if (/[A-Za-z]/.test(second))
      return new Fail('toml::parse_integer: unknown integer prefix appeared.', [
        [c.here(), 'none of 0x, 0o, 0b'],
      ]);
  }
  const r = c.take(lex.decInt);
  if (!r) return new Fail('toml::parse_integer: ', [[c.here(), 'the next token is not an integer']]);
  return { t: 'int', v: clamp(BigInt(text(r).replaceAll('_', ''))), r };
}

/** A NaN with its sign bit set, which Nix prints as `-nan`. */
function negativeNaN(): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, 0xfff80000);
  return view.getFloat64(0);
}

/** parse_floating. */
export function parseFloating(c: Cursor): Node | Fail {
  const r = c.take(lex.float);
  if (!r) return new Fail('toml::parse_floating: ', [[c.here(), 'the next token is not a float']]);
  const tok = text(r);
  let v: number;
  if (tok.endsWith('inf')) v = tok[0] === '-' ? -Infinity : Infinity;
  else if (tok.endsWith('nan')) v = tok[0] === '-' ? negativeNaN() : Number.NaN;
  else {
    // `istream >>` turns an overflow into the largest finite double.
    v = Number(tok.replaceAll('_', ''));
    if (!Number.isFinite(v)) v = v > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
  }
  return { t: 'float', v, r };
}

// --- strings

/** read_utf8_codepoint: the UTF-8 bytes of the code point an escape names; `at` is after the escape. */
function codepointBytes(hex: string, at: Spot): string {
  const cp = Number.parseInt(hex, 16);
  if (cp >= 0xd800 && cp <= 0xdfff)
    throw syntaxError(
      'toml::read_utf8_codepoint: codepoints in the range [0xD800, 0xDFFF] are not valid UTF-8.',
      [[at, 'not a valid UTF-8 codepoint']],
    );
  if (cp >= 0x110000)
    throw syntaxError('toml::read_utf8_codepoint: input codepoint is too large.', [
      [at, 'should be in [0x00..0x10FFFF]'],
    ]);
  return Buffer.from(String.fromCodePoint(cp), 'utf8').toString('latin1');
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * The value of a basic string's body (between the quotes of a token its rule accepted): escapes
 * decoded and, in a multi-line string, a backslash at a line's end dropped with the blanks after it.
 */
function decodeBasic(s: string, from: number, to: number): string {
  let out = '';
  let i = from;
  while (i < to) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      i++;
    } else if (s[i + 1] === 'u' || s[i + 1] === 'U') {
      const n = s[i + 1] === 'u' ? 4 : 8;
      out += codepointBytes(s.slice(i + 2, i + 2 + n), pointAt(s, i + 2 + n));
      i += 2 + n;
    } else if (ESCAPES[s[i + 1]!] !== undefined) {
      out += ESCAPES[s[i + 1]!];
      i += 2;
    } else {
      // A line-ending backslash (the token's rule accepted nothing else here).
      const next = lex.escapedNewline(s, i);
      if (next < 0) throw new Error(`toml: unexpected backslash at ${i}`);
      i = next;
    }
  }
  return out;
}

/** A string's token must be UTF-8 (all four kinds report it with the same words). */
function checkUtf8(r: Spot) {
  const bad = lex.invalidUtf8At(text(r));
  if (bad >= 0)
    throw syntaxError('parse_ml_basic_string: invalid utf8 sequence found', [
      [pointAt(r.src, r.first + bad), 'here'],
    ]);
}

/** The index after the newline right after an opening delimiter, which a multi-line string drops. */
const afterOpening = (s: string, i: number) => Math.max(i, lex.newline(s, i));

/** parse_ml_basic_string, parse_basic_string, parse_ml_literal_string, parse_literal_string. */
function parseStringKind(c: Cursor, kind: 'ml_basic' | 'basic' | 'ml_literal' | 'literal'): Node | Fail {
  const rule = {
    ml_basic: lex.mlBasicString,
    basic: lex.basicString,
    ml_literal: lex.mlLiteralString,
    literal: lex.literalString,
  }[kind];
  const r = c.take(rule);
  if (!r) {
    const what = {
      ml_basic: 'a valid multiline string',
      basic: 'a valid string',
      ml_literal: 'a valid multiline literal string',
      literal: 'a valid literal string',
    }[kind];
    return new Fail(`toml::parse_${kind}_string: the next token is not ${what}`, [[c.here(), 'here']]);
  }
  const s = c.s;
  let v: string;
  if (kind === 'basic') v = decodeBasic(s, r.first + 1, r.last - 1);
  else if (kind === 'literal') v = s.slice(r.first + 1, r.last - 1);
  else {
    // The body ends at the first three quotes; the closing run may hold two more, which belong to it.
    const body = afterOpening(s, r.first + 3);
    const close = (kind === 'ml_basic' ? lex.mlBasicBody : lex.mlLiteralBody)(s, r.first + 3);
    const extra = s.slice(close + 3, r.last);
    v = (kind === 'ml_basic' ? decodeBasic(s, body, close) : s.slice(body, close)) + extra;
  }
  checkUtf8(r);
  return { t: 'string', v, r };
}

/** parse_string: dispatches on the opening quotes. */
export function parseString(c: Cursor): Node | Fail {
  const s = c.s;
  if (s[c.i] === '"') return parseStringKind(c, s.startsWith('"""', c.i) ? 'ml_basic' : 'basic');
  if (s[c.i] === "'") return parseStringKind(c, s.startsWith("'''", c.i) ? 'ml_literal' : 'literal');
  return new Fail('toml::parse_string: ', [[c.here(), 'the next token is not a string']]);
}

/** parse_basic_string, for keys. */
export const parseBasicString = (c: Cursor) => parseStringKind(c, 'basic');
/** parse_literal_string, for keys. */
export const parseLiteralString = (c: Cursor) => parseStringKind(c, 'literal');

// --- dates and times: checked as toml11 checks them; fromTOML refuses them afterwards.

const DATE_RANGE = 'month should be 01-12, day should be 01-28,29,30,31, depending on month/year.';

/** parse_local_date. */
export function parseLocalDate(c: Cursor): Node | Fail {
  const r = c.take(lex.localDate);
  if (!r) return new Fail('toml::parse_local_date: ', [[c.here(), 'the next token is not a local_date']]);
  const [year, month, day] = text(r).split('-').map(Number) as [number, number, number];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const maxDay = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  if (month < 1 || month > 12 || day < 1 || day > maxDay)
    throw syntaxError('toml::parse_date: invalid date: it does not conform RFC3339.', [
      [c.here(), DATE_RANGE],
    ]);
  return { t: 'local_date', r };
}

/** parse_local_time. */
export function parseLocalTime(c: Cursor): Node | Fail {
  const r = c.take(lex.localTime);
  if (!r) return new Fail('toml::parse_local_time: ', [[c.here(), 'the next token is not a local_time']]);
  const [hour, minute, second] = text(r).slice(0, 8).split(':').map(Number) as [number, number, number];
  if (hour > 23 || minute > 59 || second > 60)
    throw syntaxError('toml::parse_time: invalid time: it does not conform RFC3339.', [
      [
        c.here(),
        'hour should be 00-23, minute should be 00-59, second should be 00-60 (depending on the leap second rules.)',
      ],
    ]);
  return { t: 'local_time', r };
}

/** parse_local_datetime: the date and the time are read again from the token alone. */
export function parseLocalDatetime(c: Cursor): Node | Fail {
  const r = c.take(lex.localDateTime);
  if (!r)
    return new Fail('toml::parse_local_datetime: ', [[c.here(), 'the next token is not a local_datetime']]);
  const inner = new Cursor(text(r));
  parseLocalDate(inner);
  inner.i++;
  parseLocalTime(inner);
  return { t: 'local_datetime', r };
}

/** parse_offset_datetime. */
export function parseOffsetDatetime(c: Cursor): Node | Fail {
  const r = c.take(lex.offsetDateTime);
  if (!r)
    return new Fail('toml::parse_offset_datetime: ', [[c.here(), 'the next token is not a offset_datetime']]);
  const inner = new Cursor(text(r));
  parseLocalDatetime(inner);
  const offset = inner.take(lex.timeNumOffset);
  if (offset) {
    const o = text(offset);
    if (Number(o.slice(1, 3)) > 23 || Number(o.slice(4, 6)) > 59)
      throw syntaxError('toml::parse_offset_datetime: invalid offset: it does not conform RFC3339.', [
        [c.here(), DATE_RANGE],
      ]);
  }
  return { t: 'offset_datetime', r };
}
