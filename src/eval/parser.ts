// Recursive-descent parser for the whole Nix grammar (2.8 and today's), producing ast.ts nodes.
// Operator precedence and associativity follow Nix's parser.y. Nested attribute paths are merged
// at parse time with Nix's rules (addAttr). One file because the grammar is one unit.
import type { AttrDef, AttrName, AttrsExpr, BinOp, Expr, Formal } from './ast.js';
import { NixEvalError } from './errors.js';
import { lex, type Token } from './lexer.js';
import { canonPath, joinPath } from './paths.js';
import type { Source } from './source.js';
import { type IndPart, mergePieces, stripIndentationPieces } from './strip-indentation.js';
import { printAttrName, upToNul } from './text/strings.js';

export interface ParseOptions {
  /** Directory that relative path literals resolve against. */
  basePath: string;
  /** Value of HOME for `~/…` paths. */
  home?: string;
}

const BINARY: Record<string, [number, 'L' | 'R' | 'N']> = {
  '->': [1, 'R'],
  '||': [2, 'L'],
  '&&': [3, 'L'],
  '==': [4, 'N'],
  '!=': [4, 'N'],
  '<': [5, 'N'],
  '>': [5, 'N'],
  '<=': [5, 'N'],
  '>=': [5, 'N'],
  '//': [6, 'R'],
  '+': [8, 'L'],
  '-': [8, 'L'],
  '*': [9, 'L'],
  '/': [9, 'L'],
  '++': [10, 'R'],
  '?': [11, 'N'],
};
const NOT_OPERAND = 8;
const NEG_OPERAND = 12;

/**
 * The tokens that may start an `expr_select`: a call's argument or a list's element. `let` is one
 * of them, as Nix's grammar has the legacy `LET '{' binds '}'` among its simple expressions: after
 * a function or in a list, `let` is read, and anything but `{` after it is the error.
 */
const SIMPLE_START = new Set([
  'ID',
  'INT',
  'FLOAT',
  'STR_OPEN',
  'IND_OPEN',
  'PATH',
  'HPATH',
  'SPATH',
  'URI',
  '(',
  '[',
  '{',
  'rec',
  'let',
]);

const INT64_MAX = 9223372036854775807n;
/**
 * Whether a float literal is out of a double's normal range, which Nix 2.8 rejects (its lexer
 * reads floats with a conversion that fails on overflow and on underflow, subnormals included).
 */
function floatOutOfRange(text: string, v: number): boolean {
  if (!Number.isFinite(v)) return true;
  if (v === 0) return /[1-9]/.test(text.split(/[Ee]/)[0]!);
  return Math.abs(v) < 2.2250738585072014e-308;
}

/** How a dynamic attribute shows in messages (written so that it is not a template). */
const DYNAMIC_ATTR = `"$${'{'}..}"`;

export function parse(src: Source, opts: ParseOptions): Expr {
  return new Parser(src, opts).parseTop();
}

function describe(t: Token): string {
  switch (t.k) {
    case 'EOF':
      return 'end of file';
    case 'STR_OPEN':
    case 'STR_CLOSE':
      return "'\"'";
    case 'IND_OPEN':
      return 'IND_STRING_OPEN';
    case 'IND_CLOSE':
      return 'IND_STRING_CLOSE';
    case 'STR':
    case 'IND_STR':
      return t.k;
    case 'ID':
    case 'INT':
    case 'FLOAT':
    case 'PATH':
    case 'HPATH':
    case 'SPATH':
    case 'URI':
      return t.k;
    default:
      // A character that is no token of the grammar (bison cannot name it).
      if (t.k.length === 1 && !GRAMMAR_CHARS.includes(t.k)) return 'invalid token';
      return tokenName(t.k);
  }
}

/** The single characters that are tokens of Nix 2.8's grammar. */
const GRAMMAR_CHARS = '!"()*+,-./:;<=>?@[]{}';

/** Bison's names for Nix 2.8's keyword and operator tokens, as its syntax errors show them. */
const TOKEN_NAMES: Record<string, string> = {
  '${': 'DOLLAR_CURLY',
  '...': 'ELLIPSIS',
  or: 'OR_KW',
  '==': 'EQ',
  '!=': 'NEQ',
  '<=': 'LEQ',
  '>=': 'GEQ',
  '&&': 'AND',
  '||': 'OR',
  '->': 'IMPL',
  '//': 'UPDATE',
  '++': 'CONCAT',
};

function tokenName(k: string): string {
  const named = TOKEN_NAMES[k];
  if (named !== undefined) return named;
  if (/^[a-z]+$/.test(k)) return k.toUpperCase();
  return /^[A-Z_]+$/.test(k) ? k : `'${k}'`;
}

/**
 * A piece of an indented string as an expression (text at the string's offset). Nix 2.8 keeps a
 * NUL byte in the piece (--parse prints it) but evaluates the piece as a C string, cut at the NUL.
 */
function pieceExpr(p: string | Expr, off: number): Expr {
  if (typeof p !== 'string') return p;
  const v = upToNul(p);
  return v === p ? { k: 'str', off, v } : { k: 'str', off, v, shown: { k: 'str', off, v: p } };
}

/** What may start an attribute name, in the order Nix 2.8's errors list them. */
const ATTR_NAME_START = "ID or OR_KW or DOLLAR_CURLY or '\"'";

class Parser {
  private toks: Token[];
  private i = 0;
  /** Index of the token after an empty `{ }` that could also have been formals (see parseExpr). */
  private formalsAfter = -1;
  /**
   * The current token, toks[i]. TypeScript keeps `this.t.k` narrowed by a comparison across
   * next(), so a kind tested again after advancing is read as toks[i].k.
   */
  private t: Token;
  constructor(
    private src: Source,
    private opts: ParseOptions,
  ) {
    this.toks = lex(src);
    this.t = this.toks[0]!;
  }

  private peek(n = 1): Token {
    return this.toks[Math.min(this.i + n, this.toks.length - 1)]!;
  }
  private next(): Token {
    const t = this.t;
    this.t = this.toks[++this.i]!;
    return t;
  }
  private fail(expecting?: string, t: Token = this.t): never {
    // A lexical error stops the parse where Nix's parser reads the refused token.
    if (t.err !== undefined) throw t.err;
    if (t === this.toks[this.formalsAfter]) expecting = "':' or '@'";
    let msg = `syntax error, unexpected ${describe(t)}`;
    if (expecting) msg += `, expecting ${expecting}`;
    throw new NixEvalError('PARSE', msg, { src: this.src, off: t.off });
  }
  private error(msg: string, off: number): never {
    throw new NixEvalError('PARSE', msg, { src: this.src, off });
  }
  private expect(k: string, desc?: string): Token {
    if (this.t.k !== k) this.fail(desc ?? tokenName(k));
    return this.next();
  }

  parseTop(): Expr {
    const e = this.parseExpr();
    if (this.t.k !== 'EOF') this.fail('end of file');
    return e;
  }

  parseExpr(): Expr {
    const t = this.t;
    switch (t.k) {
      case 'ID':
        if (this.peek().k === ':') {
          this.i += 2;
          this.t = this.toks[this.i]!;
          return { k: 'lambda', off: t.off, arg: t.v, body: this.parseExpr() };
        }
        if (this.peek().k === '@') {
          this.i += 2;
          this.t = this.toks[this.i]!;
          if (this.t.k !== '{') this.fail("'{'");
          return this.parseFormals(t.v, t.off);
        }
        break;
      case '{':
        if (this.isFormals()) return this.parseFormals(undefined, t.off);
        // `{ }` may still begin a function: Nix's GLR parser also tries formals there, and when
        // the next token fits neither, reports what the formals expected.
        if (this.peek().k === '}') this.formalsAfter = this.i + 2;
        break;
      case 'assert': {
        this.next();
        const cond = this.parseExpr();
        this.expect(';');
        return { k: 'assert', off: t.off, cond, body: this.parseExpr() };
      }
      case 'with': {
        this.next();
        const env = this.parseExpr();
        this.expect(';');
        return { k: 'with', off: t.off, env, body: this.parseExpr() };
      }
      case 'let':
        if (this.peek().k !== '{') {
          this.next();
          const attrs = this.parseBinds('in', t.off, true);
          this.expect('in');
          const body = this.parseExpr();
          // Checked once the body is parsed, as Nix 2.8 does.
          if (attrs.dyn.length > 0) this.error('dynamic attributes not allowed in let', t.off);
          return { k: 'let', off: t.off, attrs, body };
        }
        break;
      case 'if': {
        this.next();
        const cond = this.parseExpr();
        this.expect('then');
        const th = this.parseExpr();
        this.expect('else');
        return { k: 'if', off: t.off, cond, yes: th, no: this.parseExpr() };
      }
    }
    return this.parseOp(1);
  }

  /**
   * After an expression's first '{': whether Nix's GLR parser, which reads both a function's
   * formals and an attribute set there, keeps only the formals. `{ ID` followed by `,`, `?` or
   * `}` is no set (a set's name is followed by `.` or `=`), whatever comes after the `}`; `{ }`
   * is formals only before `:` or `@`.
   */
  private isFormals(): boolean {
    const a = this.peek(1);
    if (a.k === '...') return true;
    const b = this.peek(2);
    if (a.k === '}') return b.k === ':' || b.k === '@';
    return a.k === 'ID' && (b.k === ',' || b.k === '?' || b.k === '}');
  }

  private parseFormals(atName: string | undefined, off: number): Expr {
    this.expect('{');
    const list: Formal[] = [];
    let ellipsis = false;
    const seen = new Set<string>();
    let dup: { first: number; name: string; off: number } | undefined;
    while (this.t.k !== '}') {
      if (this.t.k === '...') {
        this.next();
        ellipsis = true;
        if (this.toks[this.i]!.k !== '}') this.fail("'}'");
        break;
      }
      const id = this.formalName();
      // Of the repeated names, the one seen first is reported (2.8 takes the least symbol, which is
      // about the one created first), at its second occurrence, once the function is parsed.
      if (seen.has(id.v)) {
        const first = list.findIndex((f) => f.name === id.v);
        if (dup === undefined || first < dup.first) dup = { first, name: id.v, off: id.off };
      }
      seen.add(id.v);
      const f: Formal = { name: id.v, off: id.off };
      if (this.t.k === '?') {
        this.next();
        f.def = this.parseExpr();
      }
      list.push(f);
      if (this.t.k === ',') this.next();
      else if (this.t.k !== '}') this.fail("'}'");
    }
    this.next();
    if (atName === undefined && this.toks[this.i]!.k === '@') {
      this.next();
      atName = this.expect('ID').v;
    }
    this.expect(':', atName === undefined ? "':' or '@'" : "':'");
    // As Nix 2.8, which checks the formals when it has parsed the function's body.
    const body = this.parseExpr();
    if (dup !== undefined) this.error(`duplicate formal function argument '${dup.name}'`, dup.off);
    if (atName !== undefined && seen.has(atName))
      this.error(`duplicate formal function argument '${atName}'`, off);
    const e: Expr = { k: 'lambda', off, formals: { list, ellipsis }, body };
    if (atName !== undefined) e.arg = atName;
    return e;
  }

  /**
   * A formal's name, where Nix's `formals` rule may also be empty: bison reduces the empty
   * formals on any other token, so the error names the `}` that must then follow.
   */
  private formalName(): Token {
    if (this.t.k !== 'ID') this.fail("'}'");
    return this.next();
  }

  private parseOp(minPrec: number): Expr {
    // An operation's errors point where its left operand starts (Nix 2.8's position of the rule).
    const start = this.t.off;
    let left = this.parseUnary();
    while (true) {
      const t = this.t;
      const info = BINARY[t.k];
      if (info === undefined || info[0] < minPrec) return left;
      const prec = info[0];
      const assoc = info[1];
      this.next();
      if (t.k === '?') {
        left = { k: 'hasattr', off: t.off, e: left, path: this.parseAttrPath() };
      } else {
        const rightStart = this.t.off;
        const right = this.parseOp(assoc === 'R' ? prec : prec + 1);
        if (t.k === '+') {
          const partOffs = [start, rightStart];
          left = { k: 'concat', off: start, parts: [left, right], forceString: false, partOffs };
        } else left = { k: 'bin', off: start, op: t.k as BinOp, l: left, r: right };
      }
      // `a ? b ? c` is `(a ? b) ? c`: an attribute path is not an operand, so Nix's grammar has
      // no conflict there for %nonassoc to reject.
      if (assoc === 'N' && t.k !== '?') {
        const n = BINARY[this.t.k];
        if (n && n[0] === prec) this.fail();
      }
    }
  }

  private parseUnary(): Expr {
    const t = this.t;
    if (t.k === '!') {
      this.next();
      return { k: 'not', off: t.off, e: this.parseOp(NOT_OPERAND) };
    }
    if (t.k === '-') {
      this.next();
      return { k: 'neg', off: t.off, e: this.parseOp(NEG_OPERAND) };
    }
    return this.parseApp();
  }

  // A call's and a selection's errors point where the whole expression starts (a parenthesised
  // function or set included), as Nix 2.8's do.
  private parseApp(): Expr {
    const start = this.t.off;
    const f = this.parseSelect();
    let args: Expr[] | undefined;
    // An argument's `{` opens a set: only an expression's first `{` may open formals.
    while (SIMPLE_START.has(this.t.k)) {
      args ??= [];
      args.push(this.parseSelect());
    }
    return args ? { k: 'call', off: start, f, args } : f;
  }

  private parseSelect(): Expr {
    const start = this.t.off;
    const e = this.parseSimple();
    if (this.t.k === '.') {
      this.next();
      const path = this.parseAttrPath();
      if (this.toks[this.i]!.k === 'or') {
        this.next();
        return { k: 'select', off: start, e, path, def: this.parseSelect() };
      }
      return { k: 'select', off: start, e, path };
    }
    if (this.t.k === 'or') {
      const t = this.next();
      return { k: 'call', off: e.off, f: e, args: [{ k: 'var', off: t.off, name: 'or' }] };
    }
    return e;
  }

  private parseAttrPath(): AttrName[] {
    const path: AttrName[] = [this.parseAttrName()];
    while (this.t.k === '.') {
      this.next();
      path.push(this.parseAttrName());
    }
    return path;
  }

  private parseAttrName(expecting: string | null = ATTR_NAME_START): AttrName {
    const t = this.t;
    if (t.k === 'ID' || t.k === 'or') {
      this.next();
      return { s: t.v };
    }
    if (t.k === 'STR_OPEN') {
      const e = this.parseString();
      return e.k === 'str' ? { s: e.v } : { e };
    }
    if (t.k === '${') {
      this.next();
      const e = this.parseExpr();
      this.expect('}');
      return e.k === 'str' ? { s: e.v } : { e };
    }
    return this.fail(expecting ?? undefined);
  }

  private parseString(): Expr {
    const open = this.expect('STR_OPEN');
    const parts: Expr[] = [];
    const partOffs: number[] = [];
    let interpolated = false;
    while (this.t.k !== 'STR_CLOSE') {
      const t = this.next();
      // Nix's `string_parts` is one STR, or pieces with an interpolation: a second piece (a lone
      // `$` or `\` before the end of file, lexed apart) must follow a `${`.
      if (t.k === 'STR' && parts.length === 1 && !interpolated) this.fail("'\"'", t);
      // A literal piece ends at a NUL byte, in Nix 2.8's parse tree and in its value.
      if (t.k === 'STR') parts.push({ k: 'str', off: t.off, v: upToNul(t.v) });
      else if (t.k === '${') {
        interpolated = true;
        parts.push(this.parseExpr());
        this.expect('}');
      } else this.fail("'\"'", t);
      partOffs.push(t.off);
    }
    this.next();
    if (parts.length === 0) return { k: 'str', off: open.off, v: '' };
    if (!interpolated) return { k: 'str', off: open.off, v: (parts[0] as { v: string }).v };
    return { k: 'concat', off: open.off, parts, forceString: true, partOffs };
  }

  private parseIndString(): Expr {
    const open = this.expect('IND_OPEN');
    const parts: IndPart[] = [];
    const interpolationOffs = new Map<Expr, number>();
    while (this.t.k !== 'IND_CLOSE') {
      const t = this.next();
      if (t.k === 'IND_STR') parts.push(t.v);
      else if (t.k === 'IND_ESC') parts.push({ escaped: t.v });
      else if (t.k === '${') {
        const e = this.parseExpr();
        interpolationOffs.set(e, t.off);
        parts.push(e);
        this.expect('}');
      } else this.fail('IND_STR or DOLLAR_CURLY or IND_STRING_CLOSE', t);
    }
    this.next();
    const pieces = stripIndentationPieces(parts);
    const merged = mergePieces(pieces);
    const out = merged.map((p) => pieceExpr(p, open.off));
    let e: Expr;
    if (out.length === 0) e = { k: 'str', off: open.off, v: '' };
    else if (out.length === 1 && out[0]!.k === 'str') e = { ...out[0]! };
    else {
      const partOffs = out.map((p) => interpolationOffs.get(p) ?? p.off);
      e = { k: 'concat', off: open.off, parts: out, forceString: true, partOffs };
    }
    // Merging only ever shortens the list: the same length means the same pieces.
    if (pieces.length !== merged.length && (e.k === 'str' || e.k === 'concat')) {
      e.shown = {
        k: 'concat',
        off: open.off,
        parts: pieces.map((p) => pieceExpr(p, open.off)),
        forceString: true,
      };
    }
    return e;
  }

  private parsePath(): Expr {
    const t = this.next();
    let base: string;
    if (t.k === 'HPATH') {
      base = (this.opts.home ?? '') + t.v.slice(1);
    } else {
      base = t.v.startsWith('/') ? canonPath(t.v) : canonPath(joinPath(this.opts.basePath, t.v));
      if (t.v.endsWith('/') && t.v.length > 1) base += '/';
    }
    const parts: Expr[] = [{ k: 'path', off: t.off, v: base }];
    const partOffs = [t.off];
    while (this.t.k !== 'PATH_END') {
      const p = this.next();
      if (p.k === 'STR') {
        // Text after a path's slash must lead to an interpolation (`/a//b` is no path).
        if (parts.length === 1 && this.t.k !== '${') this.fail('DOLLAR_CURLY');
        parts.push({ k: 'str', off: p.off, v: p.v });
      } else if (p.k === '${') {
        parts.push(this.parseExpr());
        this.expect('}');
      } else this.fail(undefined, p);
      partOffs.push(p.off);
    }
    this.next();
    if (parts.length === 1) return parts[0]!;
    return { k: 'concat', off: t.off, parts, forceString: false, partOffs };
  }

  private parseSimple(): Expr {
    const t = this.t;
    switch (t.k) {
      case 'ID':
        this.next();
        if (t.v === '__curPos') return { k: 'curpos', off: t.off };
        return { k: 'var', off: t.off, name: t.v };
      case 'INT': {
        this.next();
        // Up to 15 digits is below 2^53, exact as a double.
        if (t.v.length <= 15) return { k: 'int', off: t.off, v: Number(t.v) };
        const b = BigInt(t.v);
        if (b > INT64_MAX) this.error(`invalid integer '${t.v}'`, t.off);
        return { k: 'int', off: t.off, v: b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b };
      }
      case 'FLOAT': {
        this.next();
        const v = Number.parseFloat(t.v);
        if (floatOutOfRange(t.v, v)) this.error(`invalid float '${t.v}'`, t.off);
        return { k: 'float', off: t.off, v };
      }
      case 'STR_OPEN':
        return this.parseString();
      case 'IND_OPEN':
        return this.parseIndString();
      case 'PATH':
      case 'HPATH':
        return this.parsePath();
      case 'SPATH':
        this.next();
        return {
          k: 'call',
          off: t.off,
          f: { k: 'var', off: t.off, name: '__findFile' },
          args: [
            { k: 'var', off: t.off, name: '__nixPath' },
            { k: 'str', off: t.off, v: t.v.slice(1, -1) },
          ],
        };
      case 'URI':
        this.next();
        return { k: 'str', off: t.off, v: t.v };
      case '(': {
        this.next();
        const e = this.parseExpr();
        this.expect(')');
        return e;
      }
      case '[': {
        this.next();
        const elems: Expr[] = [];
        while (this.t.k !== ']') {
          if (!SIMPLE_START.has(this.t.k)) this.fail();
          elems.push(this.parseSelect());
        }
        this.next();
        return { k: 'list', off: t.off, elems };
      }
      case 'rec': {
        this.next();
        const open = this.expect('{');
        const a = this.parseBinds('}', open.off, false);
        a.rec = true;
        a.off = t.off;
        a.at = open.off;
        this.expect('}');
        return a;
      }
      case 'let': {
        // Legacy `let { …; body = …; }`.
        this.next();
        this.expect('{');
        const a = this.parseBinds('}', t.off, false);
        a.rec = true;
        this.expect('}');
        return { k: 'select', off: t.off, e: a, path: [{ s: 'body' }] };
      }
      case '{': {
        this.next();
        const a = this.parseBinds('}', t.off, false);
        a.at = t.off;
        this.expect('}');
        return a;
      }
    }
    return this.fail();
  }

  private parseBinds(end: string, off: number, isLet: boolean): AttrsExpr {
    const attrs: AttrsExpr = { k: 'attrs', off, rec: isLet, attrs: new Map(), dyn: [], inheritFrom: [] };
    // Nix 2.8's positions for inherited names (its grammar's empty-rule locations): the lookup
    // (an undefined variable, a missing attribute) is at the end of the token before the
    // bindings, the attribute itself at the end of `inherit` or of its `( … )`.
    const before = this.toks[this.i - 1]!;
    const bindsOff = before.off + before.v.length;
    while (this.t.k !== end) {
      const t = this.t;
      if (t.k === 'inherit') {
        this.next();
        let from: number | undefined;
        let attrOff = t.off + t.v.length;
        if (this.t.k === '(') {
          this.next();
          attrs.inheritFrom.push(this.parseExpr());
          from = attrs.inheritFrom.length - 1;
          attrOff = this.t.off + 1;
          this.expect(')');
        }
        const names: string[] = [];
        while (this.t.k !== ';') {
          const nt = this.t;
          // After `inherit` more can follow (`(`, `;`): Nix's error lists no expected tokens.
          const name = this.parseAttrName(null);
          if (!('s' in name)) this.error('dynamic attributes not allowed in inherit', nt.off);
          names.push(name.s);
        }
        // The names are added when the `;` is read (2.8's rule action), so a syntax error before
        // it comes first.
        for (const n of names) {
          const prev = attrs.attrs.get(n);
          if (prev)
            this.error(`attribute '${printAttrName(n)}' already defined at ${this.where(prev.off)}`, attrOff);
          const def: AttrDef =
            from === undefined
              ? { e: { k: 'var', off: bindsOff, name: n }, off: attrOff, inherit: 'scope' }
              : {
                  e: { k: 'inheritFrom', off: bindsOff, index: from, name: n },
                  off: attrOff,
                  inherit: 'from',
                };
          attrs.attrs.set(n, def);
        }
        this.next();
        continue;
      }
      if (t.k !== 'ID' && t.k !== 'or' && t.k !== 'STR_OPEN' && t.k !== '${') {
        this.fail();
      }
      const path = this.parseAttrPath();
      this.expect('=', "'.' or '='");
      const e = this.parseExpr();
      this.expect(';');
      this.addAttr(attrs, path, e, t.off);
    }
    return attrs;
  }

  private where(off: number): string {
    const { line, col } = this.src.lineCol(off);
    return `${this.src.inlineOrigin}:${line}:${col}`;
  }

  private dupAttr(path: AttrName[], off: number, prevOff: number): never {
    const shown = path.map((p) => ('s' in p ? printAttrName(p.s) : DYNAMIC_ATTR)).join('.');
    this.error(`attribute '${shown}' already defined at ${this.where(prevOff)}`, off);
  }

  private addAttr(top: AttrsExpr, path: AttrName[], e: Expr, off: number): void {
    let attrs = top;
    for (let j = 0; j < path.length - 1; j++) {
      const p = path[j]!;
      if ('s' in p) {
        const existing = attrs.attrs.get(p.s);
        if (existing) {
          if (existing.inherit || existing.e.k !== 'attrs') this.dupAttr(path, off, existing.off);
          attrs = existing.e;
        } else {
          const nested: AttrsExpr = {
            k: 'attrs',
            off,
            rec: false,
            attrs: new Map(),
            dyn: [],
            inheritFrom: [],
          };
          attrs.attrs.set(p.s, { e: nested, off });
          attrs = nested;
        }
      } else {
        const nested: AttrsExpr = { k: 'attrs', off, rec: false, attrs: new Map(), dyn: [], inheritFrom: [] };
        attrs.dyn.push({ name: p.e, e: nested, off });
        attrs = nested;
      }
    }
    const last = path[path.length - 1]!;
    if (!('s' in last)) {
      attrs.dyn.push({ name: last.e, e, off });
      return;
    }
    const existing = attrs.attrs.get(last.s);
    if (!existing) {
      if (e.k === 'lambda') e.name = last.s;
      attrs.attrs.set(last.s, { e, off });
      return;
    }
    if (existing.inherit || existing.e.k !== 'attrs' || e.k !== 'attrs')
      this.dupAttr(path, off, existing.off);
    const target = existing.e;
    if (e.inheritFrom.length > 0) {
      // Re-index the merged set's `inherit (…)` sources after the target's own.
      const base = target.inheritFrom.length;
      target.inheritFrom.push(...e.inheritFrom);
      for (const d of e.attrs.values())
        if (d.e.k === 'inheritFrom') d.e = { ...d.e, index: d.e.index + base };
    }
    for (const [name, d] of e.attrs) {
      const prev = target.attrs.get(name);
      // Nix 2.8 reports this one at the earlier definition, "already defined at" the later one.
      if (prev) this.dupAttr([{ s: name }], prev.off, d.off);
      target.attrs.set(name, d);
    }
    // Nix 2.8 drops the dynamic attributes of the second set here (fixed in 2.17); kept for parity.
  }
}
