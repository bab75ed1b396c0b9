// The token rules of Nix 2.8's TOML reader (toml11 3.7, lexer.hpp), as scanners over a byte string
// (one char per byte). A rule takes the text and a start index and returns the index after the token,
// or -1 when the token does not start there. Rules are greedy and never backtrack into a repetition,
// as toml11's combinators are: what a rule matches decides which error toml11 reports.

import { utf8Lead } from '../../formats/byte-order.js';

export type Rule = (s: string, i: number) => number;

const code = (s: string, i: number) => (i < s.length ? s.charCodeAt(i) : -1);
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;

/** A rule from a sticky regular expression; used only where backtracking cannot change the match. */
function sticky(re: RegExp): Rule {
  return (s, i) => {
    re.lastIndex = i;
    return re.test(s) ? re.lastIndex : -1;
  };
}

/** The first rule that matches (toml11's `either`). */
export function either(...rules: Rule[]): Rule {
  return (s, i) => {
    for (const r of rules) {
      const e = r(s, i);
      if (e >= 0) return e;
    }
    return -1;
  };
}

/** lex_ws: one or more spaces or tabs. */
export const ws: Rule = (s, i) => {
  let j = i;
  while (s[j] === ' ' || s[j] === '\t') j++;
  return j > i ? j : -1;
};
/** `maybe<lex_ws>`: never fails. */
export const skipWs = (s: string, i: number) => Math.max(i, ws(s, i));

/** lex_newline: LF or CRLF. */
export const newline: Rule = (s, i) =>
  s[i] === '\n' ? i + 1 : s[i] === '\r' && s[i + 1] === '\n' ? i + 2 : -1;

/** The length of a well-formed UTF-8 sequence of 2 to 4 bytes at i (lex_utf8_2byte..4byte), or 0. */
function utf8Multi(s: string, i: number): number {
  const lead = utf8Lead(code(s, i));
  if (lead < 0) return 0;
  const more = lead & 0xff;
  for (let k = 1; k <= more; k++) {
    const d = code(s, i + k);
    if (d < (k === 1 ? (lead >> 8) & 0xff : 0x80) || d > (k === 1 ? lead >> 16 : 0xbf)) return 0;
  }
  return more + 1;
}

/** check_utf8_validity: the index of the first byte that does not start valid UTF-8, or -1. */
export function invalidUtf8At(s: string): number {
  let i = 0;
  while (i < s.length) {
    const n = code(s, i) < 0x80 ? 1 : utf8Multi(s, i);
    if (n === 0) return i;
    i += n;
  }
  return -1;
}

/** lex_comment: '#', then tabs, printable ASCII and well-formed multi-byte UTF-8. */
export const comment: Rule = (s, i) => {
  if (s[i] !== '#') return -1;
  let j = i + 1;
  for (;;) {
    const b = code(s, j);
    if (b === 0x09 || (b >= 0x20 && b <= 0x7e)) j++;
    else {
      const n = utf8Multi(s, j);
      if (n === 0) return j;
      j += n;
    }
  }
};

/** `sequence<maybe<lex_ws>, maybe<lex_comment>, lex_newline>`: the rest of a line that holds no token. */
export const blankLine: Rule = (s, i) => {
  const j = skipWs(s, i);
  return newline(s, Math.max(j, comment(s, j)));
};

/** `repeat<blankLine, at_least<1>>` (skip_line in parse_ml_table). */
export const blankLines: Rule = (s, i) => {
  let j = blankLine(s, i);
  if (j < 0) return -1;
  for (let k = blankLine(s, j); k >= 0; k = blankLine(s, j)) j = k;
  return j;
};

/** `repeat<either<lex_wschar, lex_newline, lex_comment>, unlimited>` (inside arrays); never fails. */
export function skipWsCommentNewline(s: string, i: number): number {
  for (;;) {
    if (s[i] === ' ' || s[i] === '\t') i++;
    else {
      const j = Math.max(newline(s, i), comment(s, i));
      if (j < 0) return i;
      i = j;
    }
  }
}

// --- numbers, booleans, dates and times: no rule below can match differently by backtracking.

const DEC = '[+-]?(?:[1-9](?:_?[0-9])+|[0-9])';
const DIGITS = '[0-9](?:_?[0-9])*';
export const decInt = sticky(new RegExp(DEC, 'y'));
export const hexInt = sticky(/0x[0-9A-Fa-f](?:_?[0-9A-Fa-f])*/y);
export const octInt = sticky(/0o[0-7](?:_?[0-7])*/y);
export const binInt = sticky(/0b[01](?:_?[01])*/y);
export const integer = either(binInt, octInt, hexInt, decInt);
export const float = sticky(
  new RegExp(`[+-]?(?:inf|nan)|${DEC}(?:[eE][+-]?${DIGITS}|\\.${DIGITS}(?:[eE][+-]?${DIGITS})?)`, 'y'),
);
export const boolean = sticky(/true|false/y);

const DATE = '[0-9]{4}-[0-9]{2}-[0-9]{2}';
const TIME = '[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]+)?';
export const offsetDateTime = sticky(new RegExp(`${DATE}[Tt ]${TIME}(?:[Zz]|[+-][0-9]{2}:[0-9]{2})`, 'y'));
export const localDateTime = sticky(new RegExp(`${DATE}[Tt ]${TIME}`, 'y'));
export const localDate = sticky(new RegExp(DATE, 'y'));
export const localTime = sticky(new RegExp(TIME, 'y'));
export const timeNumOffset = sticky(/[+-][0-9]{2}:[0-9]{2}/y);

// --- strings

const isHex = (b: number) => isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
/** Control characters other than tab, which no string may hold unescaped. */
const isControl = (b: number) => (b >= 0 && b <= 0x08) || (b >= 0x0a && b <= 0x1f) || b === 0x7f;

/** lex_escaped: a backslash and one of `"\bfnrt`, uXXXX or UXXXXXXXX. */
export const escaped: Rule = (s, i) => {
  if (s[i] !== '\\') return -1;
  const c = s[i + 1];
  if (c !== undefined && '"\\bfnrt'.includes(c)) return i + 2;
  const n = c === 'u' ? 4 : c === 'U' ? 8 : 0;
  if (n === 0) return -1;
  for (let k = 0; k < n; k++) if (!isHex(code(s, i + 2 + k))) return -1;
  return i + 2 + n;
};

/** lex_ml_basic_escaped_newline: a backslash, blanks, a newline, then blanks and newlines. */
export const escapedNewline: Rule = (s, i) => {
  if (s[i] !== '\\') return -1;
  let j = newline(s, skipWs(s, i + 1));
  if (j < 0) return -1;
  for (let k = Math.max(ws(s, j), newline(s, j)); k >= 0; k = Math.max(ws(s, j), newline(s, j))) j = k;
  return j;
};

/** lex_basic_string: "…" with escapes. */
export const basicString: Rule = (s, i) => {
  if (s[i] !== '"') return -1;
  let j = i + 1;
  for (;;) {
    const b = code(s, j);
    if (b === 0x22) return j + 1;
    if (b === 0x5c) j = escaped(s, j);
    else if (b < 0 || isControl(b)) return -1;
    else j++;
    if (j < 0) return -1;
  }
};

/** The closing delimiter of a multi-line string: the quote three times, then up to two more. */
function closeDelim(s: string, j: number, q: string): number {
  if (!s.startsWith(q.repeat(3), j)) return -1;
  let k = j + 3;
  while (k < j + 5 && s[k] === q) k++;
  return k;
}

/** The end of a multi-line basic string's body that starts at i (lex_ml_basic_body): before `"""`. */
export function mlBasicBody(s: string, i: number): number {
  let j = i;
  while (j < s.length && !s.startsWith('"""', j)) {
    const b = code(s, j);
    let next = -1;
    if (b === 0x5c) next = Math.max(escaped(s, j), escapedNewline(s, j));
    else if (!isControl(b)) next = j + 1;
    else next = newline(s, j);
    if (next < 0) break;
    j = next;
  }
  return j;
}

/** lex_ml_basic_string: """…""" with escapes and line-ending backslashes. */
export const mlBasicString: Rule = (s, i) =>
  s.startsWith('"""', i) ? closeDelim(s, mlBasicBody(s, i + 3), '"') : -1;

/** lex_literal_string: '…' without escapes. */
export const literalString: Rule = (s, i) => {
  if (s[i] !== "'") return -1;
  let j = i + 1;
  while (j < s.length && s[j] !== "'" && !isControl(code(s, j))) j++;
  return s[j] === "'" ? j + 1 : -1;
};

/** The end of a multi-line literal string's body that starts at i (lex_ml_literal_body). */
export function mlLiteralBody(s: string, i: number): number {
  let j = i;
  while (j < s.length && !s.startsWith("'''", j)) {
    const next = isControl(code(s, j)) ? newline(s, j) : j + 1;
    if (next < 0) break;
    j = next;
  }
  return j;
}

/** lex_ml_literal_string: '''…''' without escapes. */
export const mlLiteralString: Rule = (s, i) =>
  s.startsWith("'''", i) ? closeDelim(s, mlLiteralBody(s, i + 3), "'") : -1;

// --- keys and table headers

/** lex_unquoted_key: [A-Za-z0-9_-]+. */
export const unquotedKey = sticky(/[A-Za-z0-9_-]+/y);
/** lex_simple_key: a bare key, or a basic or literal (single-line) string. */
export const simpleKey = either(unquotedKey, basicString, literalString);

/** lex_dot_sep: a dot, blanks around it allowed. */
const dotSep: Rule = (s, i) => {
  const j = skipWs(s, i);
  return s[j] === '.' ? skipWs(s, j + 1) : -1;
};

/** lex_dotted_key: two or more simple keys joined by dots. */
export const dottedKey: Rule = (s, i) => {
  let j = simpleKey(s, i);
  if (j < 0) return -1;
  let parts = 1;
  for (;;) {
    const d = dotSep(s, j);
    const k = d < 0 ? -1 : simpleKey(s, d);
    if (k < 0) return parts > 1 ? j : -1;
    j = k;
    parts++;
  }
};

/** lex_key. */
export const key = either(dottedKey, simpleKey);

/** lex_keyval_sep: '=', blanks around it allowed. */
export const keyvalSep: Rule = (s, i) => {
  const j = skipWs(s, i);
  return s[j] === '=' ? skipWs(s, j + 1) : -1;
};

/** lex_std_table ([key]) or, with `[[`/`]]`, lex_array_table. */
function header(open: string, close: string): Rule {
  return (s, i) => {
    if (!s.startsWith(open, i)) return -1;
    const k = key(s, skipWs(s, i + open.length));
    if (k < 0) return -1;
    const j = skipWs(s, k);
    return s.startsWith(close, j) ? j + close.length : -1;
  };
}
export const stdTable = header('[', ']');
export const arrayTable = header('[[', ']]');
