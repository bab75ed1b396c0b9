// Values as `nix repl` 2.8 prints them: every value shown is forced; sets and lists are expanded to
// `depth` levels (1 for a plain expression, unlimited for `:p`), deeper ones print as `{ ... }` and
// `[ ... ]`; a derivation prints as «derivation /nix/store/….drv»; functions as «lambda @ pos»,
// «primop», «primop-app»; a value met again while printing as «repeated»; an `assert` failing
// inside a set or list as «error: …». Colours (ANSI, as Nix's) only when asked for.
import { NixEvalError } from './errors.js';
import { isDerivation } from './ops.js';
import { formatFloat } from './text/float.js';
import {
  Attrs,
  force,
  Lambda,
  NixFloat,
  NixPath,
  NixStr,
  PrimOp,
  PrimOpApp,
  type Thunk,
  type Value,
} from './value.js';

const ANSI = {
  red: '\x1b[31;1m',
  green: '\x1b[32;1m',
  yellow: '\x1b[33;1m',
  blue: '\x1b[34;1m',
  magenta: '\x1b[35;1m',
  cyan: '\x1b[36;1m',
  normal: '\x1b[0m',
};

/** Nix's isVarName: names printed bare (keywords included, as the 2.8 repl does). */
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_'-]*$/;

/** A string as the 2.8 repl quotes it: `" \\ \n \r \t` escaped, `${` left alone (unlike --eval). */
function replString(s: string): string {
  let out = '"';
  for (const ch of s) {
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return `${out}"`;
}

export interface ReplPrintOptions {
  depth: number;
  color: boolean;
  /** An error as the repl prints it (`error: …` with its position), for «error: …». */
  formatError: (e: NixEvalError) => string;
  /** Where a lambda is: its file (or "(string)"), line and column. */
  showPos: (v: Lambda) => { file: string; line: number; col: number };
}

/** The printed value (a byte string, as the evaluator's strings are). */
export function printReplValue(v: Value | Thunk, opts: ReplPrintOptions): string {
  const out: string[] = [];
  const c = (color: keyof typeof ANSI, text: string) =>
    out.push(opts.color ? `${ANSI[color]}${text}${ANSI.normal}` : text);
  const seen = new Set<object>();
  const go = (t: Value | Thunk, depth: number): void => {
    const x = force(t);
    if (typeof x === 'number' || typeof x === 'bigint') c('cyan', String(x));
    else if (typeof x === 'boolean') c('cyan', x ? 'true' : 'false');
    else if (x === null) c('cyan', 'null');
    else if (typeof x === 'string') c('magenta', replString(x));
    else if (x instanceof NixStr) c('magenta', replString(x.s));
    else if (x instanceof NixFloat) out.push(formatFloat(x.v));
    else if (x instanceof NixPath) c('green', x.p);
    else if (x instanceof Attrs) {
      seen.add(x);
      if (isDerivation(x)) {
        const drvPath = x.m.get('drvPath');
        const p = drvPath === undefined ? '???' : force(drvPath);
        out.push(
          `\xc2\xabderivation ${typeof p === 'string' ? p : p instanceof NixStr ? p.s : '???'}\xc2\xbb`,
        );
      } else if (depth > 0) {
        out.push('{ ');
        for (const name of x.sortedNames()) {
          out.push(VAR_NAME.test(name) ? name : replString(name), ' = ');
          element(x.m.get(name)!, depth - 1);
          out.push('; ');
        }
        out.push('}');
      } else out.push('{ ... }');
    } else if (Array.isArray(x)) {
      seen.add(x);
      out.push('[ ');
      if (depth > 0) {
        for (const e of x) {
          element(e, depth - 1);
          out.push(' ');
        }
      } else out.push('... ');
      out.push(']');
    } else if (x instanceof Lambda) {
      const { file, line, col } = opts.showPos(x);
      const where = opts.color ? `\x1b[1m${file}${ANSI.normal}` : file;
      c('blue', `\xc2\xablambda @ ${where}:${line}:${col}\xc2\xbb`);
    } else if (x instanceof PrimOp) c('magenta', '\xc2\xabprimop\xc2\xbb');
    else if (x instanceof PrimOpApp) c('blue', '\xc2\xabprimop-app\xc2\xbb');
  };
  const element = (t: Value | Thunk, depth: number): void => {
    const mark = out.length;
    try {
      const x = force(t);
      if ((x instanceof Attrs || Array.isArray(x)) && seen.has(x)) {
        out.push('\xc2\xabrepeated\xc2\xbb');
        return;
      }
      go(x, depth);
    } catch (e) {
      if (!(e instanceof NixEvalError) || e.code !== 'ASSERT') throw e;
      out.length = mark;
      c('red', `\xc2\xaberror: ${opts.formatError(e).trimEnd()}\xc2\xbb`);
    }
  };
  go(v, opts.depth);
  return out.join('');
}
