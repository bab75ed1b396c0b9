// Indented strings (''…''): remove the smallest indentation of all lines, as Nix's
// stripIndentation does. Interpolations and escapes end a line's leading whitespace; a last line
// made only of spaces is dropped.
import type { Expr } from './ast.js';

/** Literal text, an escape (''$ ''' ''\x), or an interpolated expression. */
export type IndPart = string | { escaped: string } | Expr;

/**
 * The stripped pieces, one per token as Nix 2.8's parser keeps them (an escape or a piece left
 * empty stays a piece of its own); what the expression shows as (assertion texts).
 */
export function stripIndentationPieces(parts: IndPart[]): (string | Expr)[] {
  if (parts.length === 0) return [];
  let minIndent = 1000000;
  let curIndent = 0;
  let atStartOfLine = true;
  for (const p of parts) {
    if (typeof p !== 'string') {
      // Interpolations and escapes end the start-of-line whitespace.
      if (atStartOfLine) {
        atStartOfLine = false;
        if (curIndent < minIndent) minIndent = curIndent;
      }
      continue;
    }
    for (let i = 0; i < p.length; i++) {
      const c = p[i];
      if (atStartOfLine) {
        if (c === ' ') curIndent++;
        else if (c === '\n') curIndent = 0;
        else {
          atStartOfLine = false;
          if (curIndent < minIndent) minIndent = curIndent;
        }
      } else if (c === '\n') {
        atStartOfLine = true;
        curIndent = 0;
      }
    }
  }
  const out: (string | Expr)[] = [];
  atStartOfLine = true;
  let curDropped = 0;
  for (let n = 0; n < parts.length; n++) {
    const part = parts[n]!;
    const p = typeof part === 'object' && 'escaped' in part ? part.escaped : part;
    if (typeof p !== 'string') {
      atStartOfLine = false;
      curDropped = 0;
      out.push(p);
      continue;
    }
    let s = '';
    for (let i = 0; i < p.length; i++) {
      const c = p[i]!;
      if (atStartOfLine) {
        if (c === ' ') {
          if (curDropped++ >= minIndent) s += c;
        } else if (c === '\n') {
          curDropped = 0;
          s += c;
        } else {
          atStartOfLine = false;
          curDropped = 0;
          s += c;
        }
      } else {
        s += c;
        if (c === '\n') atStartOfLine = true;
      }
    }
    if (n === parts.length - 1) {
      const nl = s.lastIndexOf('\n');
      if (nl >= 0 && /^ *$/.test(s.slice(nl + 1))) s = s.slice(0, nl + 1);
    }
    out.push(s);
  }
  return out;
}

/** The stripped string as evaluated: adjacent literal pieces merged, empty ones dropped. */
export function mergePieces(out: (string | Expr)[]): (string | Expr)[] {
  const merged: (string | Expr)[] = [];
  for (const p of out) {
    const last = merged[merged.length - 1];
    if (typeof p === 'string' && typeof last === 'string') merged[merged.length - 1] = last + p;
    else merged.push(p);
  }
  return merged.filter((p) => p !== '' || merged.length === 1);
}
