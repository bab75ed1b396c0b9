// The JSON tokenizer of fromJSON, behaving as nlohmann::json 3.11's lexer (which Nix 2.8 uses) so
// that errors report what it reports:
// - its position ("line L, column C") counts characters as that lexer reads them: reading past the
//   end counts as one more, the character after a number is read and given back, a newline starts
//   a new line (and giving one back leaves column 0);
// - "last read" is the characters read since the last string or number token began (not just the
//   current token), control characters shown as <U+XXXX>;
// - strings are checked as UTF-8 byte by byte; outside a string a NUL ends the input; a UTF-8 byte
//   order mark at the start is skipped.
// The input is a byte string (one byte per char); string tokens decode \u escapes to UTF-8 bytes.

import { utf8Lead } from '../formats/byte-order.js';

// Token kinds (plain numbers, not literal types: the parser compares them after calls that change
// the current token); TOKEN_NAME gives the name an error message uses for each.
export const NONE: number = 0;
export const TRUE: number = 1;
export const FALSE: number = 2;
export const NULL: number = 3;
export const STRING: number = 4;
export const UNSIGNED: number = 5;
export const INTEGER: number = 6;
export const FLOAT: number = 7;
export const BEGIN_ARRAY: number = 8;
export const BEGIN_OBJECT: number = 9;
export const END_ARRAY: number = 10;
export const END_OBJECT: number = 11;
export const NAME_SEPARATOR: number = 12;
export const VALUE_SEPARATOR: number = 13;
export const ERROR: number = 14;
export const END_OF_INPUT: number = 15;
export const LITERAL_OR_VALUE: number = 16;

export const TOKEN_NAME = [
  '<uninitialized>',
  'true literal',
  'false literal',
  'null literal',
  'string literal',
  'number literal',
  'number literal',
  'number literal',
  "'['",
  "'{'",
  "']'",
  "'}'",
  "':'",
  "','",
  '<parse error>',
  'end of input',
  "'[', '{', or a literal",
];

const CONTROL_NAME =
  'NUL SOH STX ETX EOT ENQ ACK BEL BS HT LF VT FF CR SO SI DLE DC1 DC2 DC3 DC4 NAK SYN ETB CAN EM SUB ESC FS GS RS US'.split(
    ' ',
  );
const SHORT_ESCAPE: Record<number, string> = { 8: 'b', 9: 't', 10: 'n', 12: 'f', 13: 'r' };

const hex4 = (c: number) => c.toString(16).toUpperCase().padStart(4, '0');

function controlCharMessage(c: number): string {
  const short = SHORT_ESCAPE[c];
  const alt = short === undefined ? '' : ` or \\${short}`;
  return `invalid string: control character U+${hex4(c)} (${CONTROL_NAME[c]}) must be escaped to \\u${hex4(c)}${alt}`;
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** A code point as its UTF-8 bytes (one char per byte). */
function utf8(cp: number): string {
  if (cp < 0x80) return String.fromCharCode(cp);
  if (cp < 0x800) return String.fromCharCode(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  if (cp < 0x10000)
    return String.fromCharCode(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  return String.fromCharCode(
    0xf0 | (cp >> 18),
    0x80 | ((cp >> 12) & 0x3f),
    0x80 | ((cp >> 6) & 0x3f),
    0x80 | (cp & 0x3f),
  );
}

/**
 * The tokenizer: `scan()` returns the next token's kind. Its read position `p` is where the next
 * character comes from; giving a character back is `p--`. Reads past the end are counted in
 * `eofReads` (they count as columns).
 */
export class JsonLexer {
  private p = 0;
  private eofReads = 0;
  /** The character after the last number was a newline, read and given back. */
  private ungotNewline = false;
  /** Where the characters shown as "last read" start. */
  private tokenStart = 0;
  private first = true;
  /** The lexer's message for the last ERROR token. */
  message = '';
  /** The text of the last STRING token (escapes decoded) or number token (as written). */
  text = '';
  /** The last STRING token has a NUL (only `\u0000` makes one). */
  hasNul = false;
  constructor(private readonly s: string) {}

  private get(): number {
    if (this.p < this.s.length) return this.s.charCodeAt(this.p++);
    this.eofReads++;
    return -1;
  }

  /** An ERROR token whose message is `message`, after reading the character at `at`. */
  private failAfter(at: number, message: string): number {
    this.p = at;
    this.get();
    this.message = message;
    return ERROR;
  }

  /** The line and column where the lexer stands, as nlohmann counts them. */
  position(): string {
    const s = this.s;
    let line = 1;
    let lineStart = 0;
    for (let i = s.indexOf('\n'); i >= 0 && i < this.p; i = s.indexOf('\n', i + 1)) {
      line++;
      lineStart = i + 1;
    }
    const column = this.ungotNewline ? 0 : this.p - lineStart + this.eofReads;
    return `line ${line}, column ${column}`;
  }

  /** The characters read since the current token's text began, control characters escaped. */
  lastRead(): string {
    let out = '';
    for (let i = this.tokenStart; i < this.p; i++) {
      const c = this.s.charCodeAt(i);
      out += c < 0x20 ? `<U+${hex4(c)}>` : this.s[i];
    }
    return out;
  }

  scan(): number {
    const s = this.s;
    const n = s.length;
    this.ungotNewline = false;
    if (this.first) {
      this.first = false;
      if (n > 0 && s.charCodeAt(0) === 0xef) {
        this.p = 1;
        if (!(this.get() === 0xbb && this.get() === 0xbf)) {
          this.message = 'invalid BOM; must be 0xEF 0xBB 0xBF if given';
          return ERROR;
        }
      }
    }
    let p = this.p;
    let c: number;
    while (true) {
      if (p >= n) {
        this.p = n;
        this.eofReads++;
        return END_OF_INPUT;
      }
      c = s.charCodeAt(p++);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    }
    this.p = p;
    switch (c) {
      case 0x5b:
        return BEGIN_ARRAY;
      case 0x5d:
        return END_ARRAY;
      case 0x7b:
        return BEGIN_OBJECT;
      case 0x7d:
        return END_OBJECT;
      case 0x3a:
        return NAME_SEPARATOR;
      case 0x2c:
        return VALUE_SEPARATOR;
      case 0x74:
        return this.literal('true', TRUE);
      case 0x66:
        return this.literal('false', FALSE);
      case 0x6e:
        return this.literal('null', NULL);
      case 0x22:
        return this.string();
      case 0:
        return END_OF_INPUT;
      default:
        if (c === 0x2d || isDigit(c)) return this.number();
        this.message = 'invalid literal';
        return ERROR;
    }
  }

  private literal(word: string, token: number): number {
    for (let i = 1; i < word.length; i++) {
      if (this.get() !== word.charCodeAt(i)) {
        this.message = 'invalid literal';
        return ERROR;
      }
    }
    return token;
  }

  /** A string token, the opening quote read. */
  private string(): number {
    const s = this.s;
    const n = s.length;
    let p = this.p;
    this.tokenStart = p - 1;
    this.hasNul = false;
    let out = '';
    let chunk = p;
    while (true) {
      if (p >= n) return this.failAfter(n, 'invalid string: missing closing quote');
      const c = s.charCodeAt(p++);
      if (c >= 0x20 && c < 0x80) {
        if (c === 0x22) {
          this.p = p;
          this.text = out + s.slice(chunk, p - 1);
          return STRING;
        }
        if (c === 0x5c) {
          out += s.slice(chunk, p - 1);
          this.p = p;
          const e = this.escape();
          if (e === undefined) return ERROR;
          out += e;
          p = this.p;
          chunk = p;
        }
        continue;
      }
      if (c < 0x20) return this.failAfter(p - 1, controlCharMessage(c));
      // Well-formed UTF-8 only: the continuation bytes' range depends on the lead byte.
      const lead = utf8Lead(c);
      if (lead < 0) return this.failAfter(p - 1, 'invalid string: ill-formed UTF-8 byte');
      let more = lead & 0xff;
      let lo = (lead >> 8) & 0xff;
      let hi = lead >> 16;
      for (; more > 0; more--) {
        const d = p < n ? s.charCodeAt(p) : -1;
        if (d < lo || d > hi) return this.failAfter(p, 'invalid string: ill-formed UTF-8 byte');
        p++;
        lo = 0x80;
        hi = 0xbf;
      }
    }
  }

  /** The bytes an escape stands for, the backslash read; undefined (and `message` set) if invalid. */
  private escape(): string | undefined {
    const c = this.get();
    switch (c) {
      case 0x22:
        return '"';
      case 0x5c:
        return '\\';
      case 0x2f:
        return '/';
      case 0x62:
        return '\b';
      case 0x66:
        return '\f';
      case 0x6e:
        return '\n';
      case 0x72:
        return '\r';
      case 0x74:
        return '\t';
      case 0x75:
        break;
      default:
        this.message = 'invalid string: forbidden character after backslash';
        return undefined;
    }
    const badHex = "invalid string: '\\u' must be followed by 4 hex digits";
    const badPair = 'invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF';
    let cp = this.codeUnit();
    if (cp < 0) {
      this.message = badHex;
      return undefined;
    }
    if (cp >= 0xdc00 && cp <= 0xdfff) {
      this.message = 'invalid string: surrogate U+DC00..U+DFFF must follow U+D800..U+DBFF';
      return undefined;
    }
    if (cp >= 0xd800 && cp <= 0xdbff) {
      if (!(this.get() === 0x5c && this.get() === 0x75)) {
        this.message = badPair;
        return undefined;
      }
      const low = this.codeUnit();
      if (low < 0) {
        this.message = badHex;
        return undefined;
      }
      if (!(low >= 0xdc00 && low <= 0xdfff)) {
        this.message = badPair;
        return undefined;
      }
      cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    }
    if (cp === 0) this.hasNul = true;
    return utf8(cp);
  }

  /** The 4 hex digits after `\u`, or -1 after reading the first that is not one. */
  private codeUnit(): number {
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const h = hexValue(this.get());
      if (h < 0) return -1;
      v = (v << 4) | h;
    }
    return v;
  }

  /** A number token, its first character ('-' or a digit) read. */
  private number(): number {
    const s = this.s;
    const n = s.length;
    const start = this.p - 1;
    this.tokenStart = start;
    const at = (i: number) => (i < n ? s.charCodeAt(i) : -1);
    let p = this.p;
    let c = s.charCodeAt(start);
    let kind = UNSIGNED;
    if (c === 0x2d) {
      kind = INTEGER;
      c = at(p);
      if (!isDigit(c)) return this.failAfter(p, "invalid number; expected digit after '-'");
      p++;
    }
    // After a leading 0 no further digits belong to the number.
    if (c !== 0x30) while (isDigit(at(p))) p++;
    c = at(p);
    if (c === 0x2e) {
      kind = FLOAT;
      if (!isDigit(at(++p))) return this.failAfter(p, "invalid number; expected digit after '.'");
      while (isDigit(at(p))) p++;
      c = at(p);
    }
    if (c === 0x65 || c === 0x45) {
      kind = FLOAT;
      c = at(++p);
      if (c === 0x2b || c === 0x2d) {
        if (!isDigit(at(++p))) return this.failAfter(p, 'invalid number; expected digit after exponent sign');
      } else if (!isDigit(c))
        return this.failAfter(p, "invalid number; expected '+', '-', or digit after exponent");
      while (isDigit(at(p))) p++;
    }
    // The character after the number was read to see it ends, and given back.
    this.p = p;
    this.ungotNewline = at(p) === 0x0a;
    this.text = s.slice(start, p);
    return kind;
  }
}
