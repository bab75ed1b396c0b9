// The Nix lexer: the token rules of Nix's lexer.l (longest match, rule order breaks ties), with a
// mode stack for strings, indented strings, interpolations and paths with interpolations.
import { NixEvalError } from './errors.js';
import { Source } from './source.js';

export type TokKind =
  | 'ID'
  | 'INT'
  | 'FLOAT'
  | 'PATH'
  | 'HPATH'
  | 'SPATH'
  | 'URI'
  | 'STR' // literal text inside "…" or a path
  | 'IND_STR' // literal text inside ''…''
  | 'IND_ESC' // an escape inside ''…'' (''$ ''' ''\x): text that is not indentation
  | 'STR_OPEN'
  | 'STR_CLOSE'
  | 'IND_OPEN'
  | 'IND_CLOSE'
  | 'PATH_END'
  | 'EOF'
  | string; // keywords and operators, spelled as in the source

export interface Token {
  k: TokKind;
  /** Token text (unescaped for string parts). */
  v: string;
  off: number;
  /** On the LEXERR token that ends a source the lexer refused: the refusal, which the parser
   *  reports once it reads that token (Nix's parser asks for tokens one at a time). */
  err?: NixEvalError;
}

/** The keywords, each its own token kind. */
const KEYWORDS = new Map(
  ['if', 'then', 'else', 'assert', 'with', 'let', 'in', 'rec', 'inherit', 'or'].map((k) => [k, k]),
);
const OPS2 = new Set(['==', '!=', '<=', '>=', '&&', '||', '->', '//', '++', '${']);

// Character classes of the code-mode rules, by char code. Scans index CLASS with
// `charCodeAt(j) & 0xffff`: past the end of the text that is NaN & 0xffff = 0, whose class is
// empty, so they need no bounds test.
const PATH_CHAR = 1; // [a-zA-Z0-9._\-+]: path text
const ID_START = 2; // [a-zA-Z_]
const ID_CHAR = 4; // [a-zA-Z0-9_'-]
const DIGIT = 8; // [0-9]
const WORD = 16; // [a-zA-Z0-9_-]: in both an identifier and a path
const URI_CHAR = 32; // [a-zA-Z0-9%/?:@&=+$,\-_.!~*']: after a URI's scheme
const KW_START = 64; // the first letters of keywords
const CLASS = new Uint8Array(65536);
const addClass = (chars: string, bit: number) => {
  for (const ch of chars) CLASS[ch.charCodeAt(0)]! |= bit;
};
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
addClass(`${LETTERS}0123456789._-+`, PATH_CHAR);
addClass(`${LETTERS}_`, ID_START);
addClass(`${LETTERS}0123456789_'-`, ID_CHAR);
addClass('0123456789', DIGIT);
addClass(`${LETTERS}0123456789_-`, WORD);
addClass(`${LETTERS}0123456789%/?:@&=+$,-_.!~*'`, URI_CHAR);
for (const k of KEYWORDS.keys()) addClass(k[0]!, KW_START);

// The rules for paths and URIs, and all of code mode's rules for lexSlow.
const RE_PATH = /[a-zA-Z0-9._\-+]*(?:\/[a-zA-Z0-9._\-+]+)+\/?/y;
const RE_PATH_SEG_DOLLAR = /[a-zA-Z0-9._\-+]*\/\$\{/y;
const RE_HPATH = /~(?:\/[a-zA-Z0-9._\-+]+)+\/?/y;
const RE_HPATH_DOLLAR = /~\/\$\{/y;
const RE_SPATH = /<[a-zA-Z0-9._\-+]+(?:\/[a-zA-Z0-9._\-+]+)*>/y;
const RE_URI = /[a-zA-Z][a-zA-Z0-9+\-.]*:[a-zA-Z0-9%/?:@&=+$,\-_.!~*']+/y;
const RE_ID = /[a-zA-Z_][a-zA-Z0-9_'-]*/y;
const RE_INT = /[0-9]+/y;
const RE_FLOAT = /(?:[1-9][0-9]*\.[0-9]*|0?\.[0-9]+)(?:[Ee][+-]?[0-9]+)?/y;

function matchLen(re: RegExp, text: string, i: number): number {
  re.lastIndex = i;
  const m = re.exec(text);
  return m ? m[0].length : 0;
}

/** Unescapes the body of a "…" string part: \n \r \t, \X → X, CR and CRLF → LF. */
function unescapeStr(s: string): string {
  if (s.indexOf('\\') < 0 && s.indexOf('\r') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    let c = s[i]!;
    if (c === '\\') {
      c = s[++i] ?? '';
      out += c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c;
    } else if (c === '\r') {
      out += '\n';
      if (s[i + 1] === '\n') i++;
    } else out += c;
  }
  return out;
}

// Lexer modes. Code inside `{ }` and `${ }` lexes as at the top, so one mode serves all three.
const CODE = 0;
const STR = 1;
const IND = 2;
const PATH = 3;

/** The tokens of `src`; a lexical error ends them with a LEXERR token (see Token.err). */
export function lex(src: Source): Token[] {
  if (!warm) warmUp();
  const toks: Token[] = [];
  try {
    lexInto(src, toks);
  } catch (e) {
    if (!(e instanceof NixEvalError)) throw e;
    const off = e.pos?.off ?? src.text.length;
    toks.push({ k: 'LEXERR', v: '', off, err: e });
  }
  return toks;
}

/** Adds a token (one place that makes them, so they all share one shape). */
function add(toks: Token[], k: TokKind, v: string, off: number): void {
  toks.push({ k, v, off });
}

/** Adds the tokens of `src` to `toks`; code mode is here, the other modes in functions of their own. */
function lexInto(src: Source, toks: Token[]): void {
  const text = src.text;
  const n = text.length;
  const stack = [CODE];
  let mode = CODE;
  let i = 0;
  // End of the run of path characters that starts at or before `i` (see below).
  let runEnd = 0;
  // In path mode: where the lexeme before the path's last token starts (see lexPath).
  let pathBefore = 0;
  const hasCR = text.indexOf('\r') >= 0;
  while (true) {
    if (mode !== CODE) {
      if (mode === STR) i = lexStr(text, i, toks, stack);
      else if (mode === IND) i = lexInd(text, i, toks, stack);
      else i = lexPath(src, i, toks, { stack, before: pathBefore });
      if (i < 0) return;
      mode = stack[stack.length - 1]!;
      continue;
    }
    const triviaStart = i;
    i = skipTrivia(text, i, hasCR);
    if (i >= n) {
      add(toks, 'EOF', '', eofOffset(text, triviaStart, toks));
      return;
    }
    const c = text.charCodeAt(i);
    const d = text.charCodeAt(i + 1);
    const cls = CLASS[c]!;
    // The token's kind and length; kind '' leaves it to lexSlow, which has every rule.
    let kind: TokKind = '';
    let len = 1;
    if ((cls & PATH_CHAR) !== 0) {
      // A path or URI is only possible where the run of path characters from here ends in '/'
      // (a path), or in ':' and a URI character (a URI, whose scheme is path characters). A
      // later token inside the same run ends where it does.
      let j = i + 1;
      if ((cls & ID_START) !== 0) j = runOf(text, j, WORD);
      let end = j;
      if (i < runEnd) end = runEnd;
      else {
        end = runOf(text, end, PATH_CHAR);
        runEnd = end;
      }
      const after = text.charCodeAt(end);
      if (after === 47 || (after === 58 && (CLASS[text.charCodeAt(end + 1) & 0xffff]! & URI_CHAR) !== 0)) {
        // Left to lexSlow.
      } else if ((cls & ID_START) !== 0) {
        // An identifier or a keyword.
        if (text.charCodeAt(j) === 39 /* ' */) j = runOf(text, j + 1, ID_CHAR);
        const v = text.slice(i, j);
        const kw = j - i <= 7 && (cls & KW_START) !== 0 ? KEYWORDS.get(v) : undefined;
        if (kw === undefined) add(toks, 'ID', v, i);
        else add(toks, kw, kw, i);
        i = j;
        continue;
      } else if ((cls & DIGIT) !== 0) {
        // An integer, or a float: [1-9][0-9]*\.[0-9]* or 0?\.[0-9]+, then [Ee][+-]?[0-9]+ or not.
        j = digitsFrom(text, i + 1);
        kind = 'INT';
        if (c !== 48 /* 0 */) {
          if (text.charCodeAt(j) === 46 /* . */) {
            j = digitsFrom(text, j + 1);
            kind = 'FLOAT';
          }
        } else if (d === 46 && (CLASS[text.charCodeAt(i + 2) & 0xffff]! & DIGIT) !== 0) {
          j = digitsFrom(text, i + 3);
          kind = 'FLOAT';
        }
        if (kind === 'FLOAT') j = exponentFrom(text, j);
        add(toks, kind, text.slice(i, j), i);
        i = j;
        continue;
      } else if (c === 46 /* . */) {
        if (d === 46 && text.charCodeAt(i + 2) === 46) {
          kind = '...';
          len = 3;
        } else if ((CLASS[d & 0xffff]! & DIGIT) !== 0) {
          const j = exponentFrom(text, digitsFrom(text, i + 2));
          add(toks, 'FLOAT', text.slice(i, j), i);
          i = j;
          continue;
        } else kind = '.';
      } else if (c === 45 /* - */) {
        if (d === 62 /* > */) {
          kind = '->';
          len = 2;
        } else kind = '-';
      } else {
        // '+': every other path character is a letter, a digit, '_', '.' or '-'.
        if (d === 43) {
          kind = '++';
          len = 2;
        } else kind = '+';
      }
    } else {
      switch (c) {
        case 123 /* { */:
          add(toks, '{', '{', i);
          stack.push(CODE);
          i++;
          continue;
        case 125 /* } */:
          if (stack.length > 1 && stack[stack.length - 2] === PATH) {
            pathBefore = lastLexemeStart(text, triviaStart, i, lastTokenOffset(toks));
          }
          add(toks, '}', '}', i);
          i++;
          if (stack.length > 1) {
            stack.pop();
            mode = stack[stack.length - 1]!;
          }
          continue;
        case 34 /* " */:
          add(toks, 'STR_OPEN', '"', i);
          stack.push(STR);
          mode = STR;
          i++;
          continue;
        case 39 /* ' */:
          if (d === 39) {
            // `''`, and the rest of its line when only spaces follow.
            let j = i + 2;
            while (text.charCodeAt(j) === 32) j++;
            add(toks, 'IND_OPEN', "''", i);
            stack.push(IND);
            mode = IND;
            i = text.charCodeAt(j) === 10 ? j + 1 : i + 2;
            continue;
          }
          kind = "'";
          break;
        case 47 /* / */:
          // A path when path text or `${` follows; `//` cannot start one.
          if (d === 47) {
            kind = '//';
            len = 2;
          } else if ((CLASS[d & 0xffff]! & PATH_CHAR) === 0 && d !== 36) kind = '/';
          break;
        case 60 /* < */:
          // A search path when path text follows.
          if (d === 61) {
            kind = '<=';
            len = 2;
          } else if ((CLASS[d & 0xffff]! & PATH_CHAR) === 0) kind = '<';
          break;
        case 126 /* ~ */:
          break;
        case 61 /* = */:
        case 33 /* ! */:
        case 62 /* > */:
          if (d === 61) {
            kind = c === 61 ? '==' : c === 33 ? '!=' : '>=';
            len = 2;
          } else kind = text[i]!;
          break;
        case 38 /* & */:
        case 124 /* | */:
          if (d === c) {
            kind = c === 38 ? '&&' : '||';
            len = 2;
          } else kind = text[i]!;
          break;
        case 36 /* $ */:
          if (d === 123) {
            i = openInterpolation(toks, stack, i);
            continue;
          }
          kind = '$';
          break;
        default:
          kind = text[i]!;
      }
    }
    if (kind !== '') {
      add(toks, kind, kind, i);
      i += len;
      continue;
    }
    const before = lastTokenOffset(toks);
    i += lexSlow(text, i, toks);
    const t = toks[toks.length - 1]!;
    if (t.k === 'PATH' || t.k === 'HPATH') {
      pathBefore = lastLexemeStart(text, triviaStart, t.off, before);
      stack.push(PATH);
      mode = PATH;
    }
  }
}

// The scanning loops are small functions of their own: the optimizing compiler takes them on
// early and quickly, while the lexer's main loop still runs unoptimized.

/** The end of the run of characters of class `bit` from `j`. */
function runOf(text: string, j: number, bit: number): number {
  while ((CLASS[text.charCodeAt(j) & 0xffff]! & bit) !== 0) j++;
  return j;
}

/** The end of the run of digits from `j`. */
function digitsFrom(text: string, j: number): number {
  return runOf(text, j, DIGIT);
}

/** Where a string's unexpected end is reported: at its last token, as Nix 2.8 does. */
function lastTokenOffset(toks: Token[]): number {
  return toks.length === 0 ? 0 : toks[toks.length - 1]!.off;
}

/**
 * Where Nix 2.8 reports an unexpected end of file after the trivia from `i`: where the last lexeme
 * starts, a run of whitespace and a comment being lexemes too (its lexer moves the location with
 * every rule), or at the start of an empty text.
 */
function eofOffset(text: string, i: number, toks: Token[]): number {
  return lastLexemeStart(text, i, text.length, lastTokenOffset(toks));
}

/**
 * Where the last lexeme of the trivia text[from, to) starts (a run of whitespace, a comment), or
 * `token` (where the token before them starts) when there is none.
 */
function lastLexemeStart(text: string, from: number, to: number, token: number): number {
  let at = token;
  let i = from;
  while (i < to) {
    const c = text.charCodeAt(i);
    at = i;
    if (c === 32 || c === 10 || c === 9 || c === 13) {
      while (i < to && /[ \t\r\n]/.test(text[i]!)) i++;
    } else if (c === 35 /* # */) {
      while (i < to && text[i] !== '\n' && text[i] !== '\r') i++;
    } else {
      // A block comment (skipTrivia found its end).
      i = text.indexOf('*/', i + 2) + 2;
    }
  }
  return at;
}

/**
 * The end of the whitespace and comments from `i`. An unterminated `/*` is no comment: its `/`
 * and `*` are operators, as in Nix's lexer. `hasCR`: whether the text has a CR (which also ends
 * a line comment).
 */
function skipTrivia(text: string, i: number, hasCR: boolean): number {
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 10 || c === 9 || c === 13) i++;
    else if (c === 35 /* # */) {
      if (hasCR) {
        i++;
        while (i < n) {
          const d = text.charCodeAt(i);
          if (d === 10 || d === 13) break;
          i++;
        }
      } else {
        const end = text.indexOf('\n', i + 1);
        i = end < 0 ? n : end;
      }
    } else if (c === 47 && text.charCodeAt(i + 1) === 42 /* * */) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return i;
      i = end + 2;
    } else return i;
  }
  return i;
}

/** The end of a float's optional exponent ([Ee][+-]?[0-9]+) at `j`. */
function exponentFrom(text: string, j: number): number {
  const e = text.charCodeAt(j);
  if (e !== 69 && e !== 101) return j;
  let k = j + 1;
  const s = text.charCodeAt(k);
  if (s === 43 || s === 45) k++;
  if ((CLASS[text.charCodeAt(k) & 0xffff]! & DIGIT) === 0) return j;
  return digitsFrom(text, k + 1);
}

/**
 * The token at `i` by the longest match over all of code mode's rules, earlier rules winning
 * ties: for where a path or URI may start. Adds the token and returns its length.
 */
function lexSlow(text: string, i: number, toks: Token[]): number {
  let best = 0;
  let kind: TokKind = '';
  const take = (len: number, k: TokKind) => {
    if (len > best) {
      best = len;
      kind = k;
    }
  };
  const two = text.slice(i, i + 2);
  if (text.startsWith('...', i)) take(3, '...');
  if (OPS2.has(two)) take(2, two);
  take(matchLen(RE_ID, text, i), 'ID');
  take(matchLen(RE_INT, text, i), 'INT');
  take(matchLen(RE_FLOAT, text, i), 'FLOAT');
  take(matchLen(RE_PATH_SEG_DOLLAR, text, i), 'PATH_SEG');
  take(matchLen(RE_HPATH_DOLLAR, text, i), 'HPATH_SEG');
  take(matchLen(RE_PATH, text, i), 'PATH');
  take(matchLen(RE_HPATH, text, i), 'HPATH');
  take(matchLen(RE_SPATH, text, i), 'SPATH');
  take(matchLen(RE_URI, text, i), 'URI');
  take(1, text[i]!);
  let v = text.slice(i, i + best);
  if (kind === 'ID') kind = KEYWORDS.get(v) ?? 'ID';
  if (kind === 'PATH_SEG' || kind === 'HPATH_SEG') {
    // The segment up to and including the last '/', then an interpolation follows.
    v = v.slice(0, -2);
    kind = kind === 'PATH_SEG' ? 'PATH' : 'HPATH';
  }
  add(toks, kind, v, i);
  return v.length;
}

/**
 * String mode from `i`: text up to the next `"` or `${`, honouring escapes. Returns the offset to
 * go on from, or -1 after an EOF token (as lexInd and lexPath).
 */
function lexStr(text: string, i: number, toks: Token[], stack: number[]): number {
  const n = text.length;
  let j = i;
  let lone = false;
  while (j < n) {
    const c = text.charCodeAt(j);
    if (c === 34 /* " */) break;
    // The end of the piece at j: a character, an escape `\X`, `$X`, `$\X`, or a `$` before `"`.
    let end = j + 1;
    if (c === 92 /* \ */) end = j + 2;
    else if (c === 36 /* $ */) {
      const d = text.charCodeAt(j + 1);
      if (d === 123 /* { */) break;
      end = d === 34 ? j + 1 : d === 92 ? j + 3 : j + 2;
    }
    lone = end > n;
    if (lone) break;
    j = end;
  }
  if (j > i) add(toks, 'STR', unescapeStr(text.slice(i, j)), i);
  if (lone) {
    // A piece cut by the end of the file (a lone `$`, `\` or `$\`) is a token of its own.
    add(toks, 'STR', text.slice(j), j);
    j = n;
  }
  if (j >= n) {
    // The parser reports the end of file inside the string, as Nix's grammar does.
    add(toks, 'EOF', '', lastTokenOffset(toks));
    return -1;
  }
  if (text.charCodeAt(j) === 34) {
    add(toks, 'STR_CLOSE', '"', j);
    stack.pop();
    return j + 1;
  }
  return openInterpolation(toks, stack, j);
}

/** Indented-string mode from `i`: one token. */
function lexInd(text: string, i: number, toks: Token[], stack: number[]): number {
  const n = text.length;
  if (i >= n) {
    add(toks, 'EOF', '', lastTokenOffset(toks));
    return -1;
  }
  const c = text.charCodeAt(i);
  if (c === 39 /* ' */ && text.charCodeAt(i + 1) === 39) {
    const d = text.charCodeAt(i + 2);
    if (d === 36 /* $ */) {
      add(toks, 'IND_ESC', '$', i);
      return i + 3;
    }
    if (d === 39) {
      add(toks, 'IND_ESC', "''", i);
      return i + 3;
    }
    if (d === 92 /* \ */ && i + 3 < n) {
      add(toks, 'IND_ESC', unescapeStr(text.slice(i + 2, i + 4)), i);
      return i + 4;
    }
    add(toks, 'IND_CLOSE', "''", i);
    stack.pop();
    return i + 2;
  }
  if (c === 36 && text.charCodeAt(i + 1) === 123 /* { */) {
    return openInterpolation(toks, stack, i);
  }
  // Plain text: ([^$']|$[^{']|'[^'$])+, then a lone $ or ' as its own token.
  let j = i;
  while (j < n) {
    const ch = text.charCodeAt(j);
    if (ch === 36) {
      if (j + 1 >= n) break;
      const d = text.charCodeAt(j + 1);
      if (d === 123 || d === 39) break;
      j += 2;
    } else if (ch === 39) {
      if (j + 1 >= n) break;
      const d = text.charCodeAt(j + 1);
      if (d === 39 || d === 36) break;
      j += 2;
    } else j++;
  }
  if (j > i) {
    add(toks, 'IND_STR', text.slice(i, j), i);
    return j;
  }
  add(toks, 'IND_STR', text[i]!, i);
  return i + 1;
}

/** A `${` at `i`: its token, and code mode until the matching `}`. Returns the offset after it. */
function openInterpolation(toks: Token[], stack: number[], i: number): number {
  add(toks, '${', '${', i);
  stack.push(CODE);
  return i + 2;
}

/**
 * Path mode (after a path's text, for its interpolations) from `i`: one token. `before` is where
 * the lexeme before the path's first token, or before an interpolation's closing `}`, starts.
 */
function lexPath(src: Source, i: number, toks: Token[], opts: { stack: number[]; before: number }): number {
  const text = src.text;
  if (text.charCodeAt(i) === 36 && text.charCodeAt(i + 1) === 123) {
    return openInterpolation(toks, opts.stack, i);
  }
  const j = pathPieceEnd(text, i);
  if (j > i) {
    add(toks, 'STR', text.slice(i, j), i);
    return j;
  }
  // Nix's INPATH_SLASH state: after a piece ending in '/', only more of the path may follow.
  const last = toks[toks.length - 1]!;
  const atEnd = i >= text.length;
  if (last.k !== '}' && last.v.endsWith('/')) {
    // At the end of the file the location is still the last token's.
    throw new NixEvalError('PARSE', 'path has a trailing slash', { src, off: atEnd ? last.off : i });
  }
  // Nix's lexer puts PATH_END back at the location before the character it reads again: the last
  // token's; at the end of the file, where no character is read, the lexeme's before that.
  const before = last.k === 'STR' ? toks[toks.length - 2]!.off : opts.before;
  add(toks, 'PATH_END', '', atEnd ? before : last.off);
  opts.stack.pop();
  return i;
}

/**
 * The end of the path piece at `i`, the longest of lexer.l's {PATH}, {PATH_SEG} and {PATH_CHAR}+
 * (path characters, then `/` and path characters any times, then a `/` or not), or `i`.
 */
function pathPieceEnd(text: string, i: number): number {
  let j = runOf(text, i, PATH_CHAR);
  while (text.charCodeAt(j) === 47 /* / */ && (CLASS[text.charCodeAt(j + 1) & 0xffff]! & PATH_CHAR) !== 0) {
    j = runOf(text, j + 1, PATH_CHAR);
  }
  return text.charCodeAt(j) === 47 ? j + 1 : j;
}

// Every rule once, so that each branch has type feedback before the lexer gets optimized (a branch
// first taken in optimized code deoptimizes it, and it is compiled again).
const WARM_UP =
  "let x = { a.b = 1; c'd'' = -2.5e3 + .5 * 0.25 / 3; inherit (y) or; } // rec { d = [ ./a/b ~/c <d/e> " +
  'f:g ./h/${i} a/b ${j} ]; }; in if x == 1 && !x != 2 || x -> x ++ x; then x.a or 1 >= 2 <= 3 ' +
  "< 4 > 5 else \"s\\n$${x}\\\"\" + ''\n  i''$ ''' ''\\n $$ ${x} ' $ '' # c\r\n /* d */ {...}: x@y: ? @ ^ 09 1. 0.e1 '' a'' \n";
let warm = false;

/** Lexes WARM_UP, before the first source. */
function warmUp(): void {
  warm = true;
  // A function gets its feedback vector only after some calls, hence the repetitions.
  // (Half of them without CRs, which line comments end at too.)
  const noCR = WARM_UP.replaceAll('\r', '');
  for (let r = 0; r < 8; r++) lex(new Source(undefined, r % 2 === 0 ? WARM_UP : noCR));
}
