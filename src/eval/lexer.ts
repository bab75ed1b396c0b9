// The Nix lexer: the token rules of Nix's lexer.l (longest match, rule order breaks ties), with a
// mode stack for strings, indented strings, interpolations and paths with interpolations.
import { NixEvalError } from './errors.js';
import type { Source } from './source.js';

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
  /** On the LEXERR token that ends a source the lexer refused: the refusal, and the index of the
   *  token being read when it happened (the parser reports it once it gets that far). */
  err?: { e: NixEvalError; from: number };
}

const KEYWORDS = new Set(['if', 'then', 'else', 'assert', 'with', 'let', 'in', 'rec', 'inherit', 'or']);
const OPS2 = new Set(['==', '!=', '<=', '>=', '&&', '||', '->', '//', '++', '${']);

const PATH_CHAR = new Uint8Array(128);
for (const ch of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+')
  PATH_CHAR[ch.charCodeAt(0)] = 1;

const RE_ID = /[a-zA-Z_][a-zA-Z0-9_'-]*/y;
const RE_INT = /[0-9]+/y;
const RE_FLOAT = /(?:[1-9][0-9]*\.[0-9]*|0?\.[0-9]+)(?:[Ee][+-]?[0-9]+)?/y;
const RE_PATH = /[a-zA-Z0-9._\-+]*(?:\/[a-zA-Z0-9._\-+]+)+\/?/y;
const RE_PATH_SEG_DOLLAR = /[a-zA-Z0-9._\-+]*\/\$\{/y;
const RE_HPATH = /~(?:\/[a-zA-Z0-9._\-+]+)+\/?/y;
const RE_HPATH_DOLLAR = /~\/\$\{/y;
const RE_SPATH = /<[a-zA-Z0-9._\-+]+(?:\/[a-zA-Z0-9._\-+]+)*>/y;
const RE_URI = /[a-zA-Z][a-zA-Z0-9+\-.]*:[a-zA-Z0-9%/?:@&=+$,\-_.!~*']+/y;
const RE_PATH_CHARS = /[a-zA-Z0-9._\-+/]+/y;
const RE_WS = /(?:[ \t\r\n]+|#[^\r\n]*|\/\*(?:[^*]|\*+[^*/])*\*+\/)+/y;
const RE_IND_OPEN = /''(?: *\n)?/y;

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

type Mode = 'code' | 'brace' | 'interp' | 'str' | 'ind' | 'path';

/** The tokens of `src`; a lexical error ends them with a LEXERR token (see Token.err). */
export function lex(src: Source): Token[] {
  const toks: Token[] = [];
  try {
    lexInto(src, toks);
  } catch (e) {
    if (!(e instanceof NixEvalError)) throw e;
    const off = e.pos?.off ?? src.text.length;
    toks.push({ k: 'LEXERR', v: '', off, err: { e, from: Math.max(0, toks.length - 1) } });
  }
  return toks;
}

function lexInto(src: Source, toks: Token[]): void {
  const text = src.text;
  const n = text.length;
  const stack: Mode[] = ['code'];
  let i = 0;
  const err = (msg: string, off: number): never => {
    throw new NixEvalError('PARSE', msg, { src, off });
  };
  while (true) {
    const mode = stack[stack.length - 1]!;
    if (mode === 'str') {
      // Text up to the next `"` or `${`, honouring escapes.
      const start = i;
      let j = i;
      while (j < n) {
        const c = text.charCodeAt(j);
        if (c === 34 /* " */) break;
        if (c === 92 /* \ */) {
          j += 2;
          continue;
        }
        if (c === 36 /* $ */) {
          const d = text.charCodeAt(j + 1);
          if (d === 123 /* { */) break;
          if (d === 92) {
            j++;
            continue;
          }
          if (d === 34) {
            j++;
            continue;
          }
          j += 2;
          continue;
        }
        j++;
      }
      if (j > n) j = n;
      if (j > start) toks.push({ k: 'STR', v: unescapeStr(text.slice(start, j)), off: start });
      i = j;
      if (i >= n) {
        // The parser reports the end of file inside the string, as Nix's grammar does.
        toks.push({ k: 'EOF', v: '', off: n });
        return;
      }
      if (text.charCodeAt(i) === 34) {
        toks.push({ k: 'STR_CLOSE', v: '"', off: i });
        i++;
        stack.pop();
      } else {
        toks.push({ k: '${', v: '${', off: i });
        i += 2;
        stack.push('interp');
      }
      continue;
    }
    if (mode === 'ind') {
      if (i >= n) {
        toks.push({ k: 'EOF', v: '', off: n });
        return;
      }
      const c = text[i];
      if (c === "'" && text[i + 1] === "'") {
        const d = text[i + 2];
        if (d === '$') {
          toks.push({ k: 'IND_ESC', v: '$', off: i });
          i += 3;
        } else if (d === "'") {
          toks.push({ k: 'IND_ESC', v: "''", off: i });
          i += 3;
        } else if (d === '\\' && i + 3 < n) {
          toks.push({ k: 'IND_ESC', v: unescapeStr(text.slice(i + 2, i + 4)), off: i });
          i += 4;
        } else {
          toks.push({ k: 'IND_CLOSE', v: "''", off: i });
          i += 2;
          stack.pop();
        }
        continue;
      }
      if (c === '$' && text[i + 1] === '{') {
        toks.push({ k: '${', v: '${', off: i });
        i += 2;
        stack.push('interp');
        continue;
      }
      // Plain text: ([^$']|$[^{']|'[^'$])+, then a lone $ or ' as its own token.
      const start = i;
      let j = i;
      while (j < n) {
        const ch = text[j];
        if (ch === '$') {
          const d = text[j + 1];
          if (d === undefined || d === '{' || d === "'") break;
          j += 2;
        } else if (ch === "'") {
          const d = text[j + 1];
          if (d === undefined || d === "'" || d === '$') break;
          j += 2;
        } else j++;
      }
      if (j > n) j = n;
      if (j > start) {
        toks.push({ k: 'IND_STR', v: text.slice(start, j), off: start });
      } else {
        toks.push({ k: 'IND_STR', v: text[i]!, off: i });
        j = i + 1;
      }
      i = j;
      continue;
    }
    if (mode === 'path') {
      if (text[i] === '$' && text[i + 1] === '{') {
        toks.push({ k: '${', v: '${', off: i });
        i += 2;
        stack.push('interp');
        continue;
      }
      const l = matchLen(RE_PATH_CHARS, text, i);
      if (l > 0) {
        toks.push({ k: 'STR', v: text.slice(i, i + l), off: i });
        i += l;
        continue;
      }
      const prev = toks[toks.length - 1]!;
      if (prev.k !== '}' && prev.v.endsWith('/')) err('path has a trailing slash', i);
      toks.push({ k: 'PATH_END', v: '', off: i });
      stack.pop();
      continue;
    }
    // Code.
    const ws = matchLen(RE_WS, text, i);
    i += ws;
    if (i >= n) {
      toks.push({ k: 'EOF', v: '', off: n });
      return;
    }
    const c = text[i]!;
    // An unterminated `/*` is no comment: its `/` and `*` are operators, as in Nix's lexer.
    if (c === '{') {
      toks.push({ k: '{', v: '{', off: i });
      stack.push('brace');
      i++;
      continue;
    }
    if (c === '}') {
      toks.push({ k: '}', v: '}', off: i });
      i++;
      if (stack.length > 1) stack.pop();
      continue;
    }
    if (c === '"') {
      toks.push({ k: 'STR_OPEN', v: '"', off: i });
      stack.push('str');
      i++;
      continue;
    }
    if (c === "'" && text[i + 1] === "'") {
      const l = matchLen(RE_IND_OPEN, text, i);
      toks.push({ k: 'IND_OPEN', v: "''", off: i });
      stack.push('ind');
      i += l;
      continue;
    }
    // Paths and URIs are only possible when a run of path characters reaches '/' or ':' (or the
    // token starts with '/', '~' or '<'); otherwise skip their (costly) rules.
    let j = i;
    while (j < n && PATH_CHAR[text.charCodeAt(j)] === 1) j++;
    const after = text[j];
    const slow = after === '/' || after === ':' || c === '/' || c === '~' || c === '<';
    // Longest match over the remaining rules, earlier rules winning ties.
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
    if (slow) {
      take(matchLen(RE_PATH_SEG_DOLLAR, text, i), 'PATH_SEG');
      take(matchLen(RE_HPATH_DOLLAR, text, i), 'HPATH_SEG');
      take(matchLen(RE_PATH, text, i), 'PATH');
      take(matchLen(RE_HPATH, text, i), 'HPATH');
      take(matchLen(RE_SPATH, text, i), 'SPATH');
      take(matchLen(RE_URI, text, i), 'URI');
    }
    take(1, c);
    let v = text.slice(i, i + best);
    if (kind === 'ID' && KEYWORDS.has(v)) kind = v;
    if (kind === 'PATH_SEG' || kind === 'HPATH_SEG') {
      // The segment up to and including the last '/', then an interpolation follows.
      v = v.slice(0, -2);
      best -= 2;
      kind = kind === 'PATH_SEG' ? 'PATH' : 'HPATH';
    }
    toks.push({ k: kind, v, off: i });
    i += best;
    if (kind === '${') stack.push('interp');
    else if (kind === 'PATH' || kind === 'HPATH') stack.push('path');
  }
}
