// Parser for POSIX extended regular expressions exactly as Nix 2.8 accepts them: Nix compiles
// `builtins.match`/`builtins.split` patterns with libstdc++'s `std::regex(re, std::regex::extended)`,
// so this follows libstdc++'s scanner and compiler rules (which differ from POSIX in places):
// - only `.[\()*+?{|^$` may be escaped outside brackets (`\d`, `\n`, `\}` are invalid);
// - `]` and `}` are ordinary characters; a quantifier may follow a quantifier (`a**`, `a{1}{2}`);
// - a quantifier cannot follow `^`, `$`, `(`, `|` or the start;
// - backslash is literal inside brackets; a range end point compares as a *signed* char;
// - classes are the C-locale ones plus `d`, `w`, `s`, names case-insensitive.
// Patterns are byte strings (one char per byte).

import { bracketClass, collatingElement } from './regex-classes.js';

export class RegexError extends Error {
  constructor(
    readonly code: 'INVALID_REGEX' | 'REGEX_TOO_LARGE',
    readonly pattern: string,
  ) {
    super(
      code === 'INVALID_REGEX'
        ? `invalid regular expression '${pattern}'`
        : `memory limit exceeded by regular expression '${pattern}'`,
    );
    this.name = 'RegexError';
  }
}

/** The set of bytes a bracket expression (or `.`) matches: 256 booleans. */
export type ByteSet = Uint8Array;

export type RegexNode =
  | { t: 'seq'; items: RegexNode[] }
  | { t: 'alt'; left: RegexNode; right: RegexNode }
  | { t: 'set'; set: ByteSet; single?: number }
  | { t: 'group'; index: number; body: RegexNode }
  | { t: 'bol' }
  | { t: 'eol' }
  | { t: 'repeat'; body: RegexNode; min: number; max: number | undefined; q: '*' | '+' | '?' | '{' };

export interface ParsedRegex {
  root: RegexNode;
  /** Number of capture groups (excluding the whole match). */
  groups: number;
}

const SPECIAL = '.[\\()*+?{|^$';

class Fail extends Error {}

export function parseRegex(pattern: string): ParsedRegex {
  let i = 0;
  let groups = 0;
  const n = pattern.length;
  const fail = (): never => {
    throw new Fail();
  };

  function disjunction(): RegexNode {
    let left = alternative();
    while (i < n && pattern[i] === '|') {
      i++;
      left = { t: 'alt', left, right: alternative() };
    }
    return left;
  }

  function alternative(): RegexNode {
    const items: RegexNode[] = [];
    for (;;) {
      const t = term();
      if (!t) break;
      items.push(t);
    }
    return { t: 'seq', items };
  }

  function term(): RegexNode | undefined {
    if (i >= n) return undefined;
    const c = pattern[i];
    if (c === '^') {
      i++;
      return { t: 'bol' };
    }
    if (c === '$') {
      i++;
      return { t: 'eol' };
    }
    let node = atom();
    if (!node) return undefined;
    for (;;) {
      const q = quantifier();
      if (!q) return node;
      node = { t: 'repeat', body: node, ...q };
    }
  }

  function atom(): RegexNode | undefined {
    const c = pattern[i]!;
    if (!SPECIAL.includes(c)) {
      i++;
      return literal(c.charCodeAt(0));
    }
    if (c === '\\') {
      if (i + 1 >= n) fail();
      const d = pattern[i + 1]!;
      if (!SPECIAL.includes(d)) fail();
      i += 2;
      return literal(d.charCodeAt(0));
    }
    if (c === '.') {
      i++;
      const set = new Uint8Array(256).fill(1);
      set[0] = 0;
      return { t: 'set', set };
    }
    if (c === '(') {
      i++;
      const index = ++groups;
      const body = disjunction();
      if (pattern[i] !== ')') fail();
      i++;
      return { t: 'group', index, body };
    }
    if (c === '[') {
      i++;
      return bracket();
    }
    // ')', '{', '*', '+', '?', '|' cannot start an atom.
    return undefined;
  }

  function quantifier(): { min: number; max: number | undefined; q: '*' | '+' | '?' | '{' } | undefined {
    const c = pattern[i];
    if (c === '*') {
      i++;
      return { min: 0, max: undefined, q: '*' };
    }
    if (c === '+') {
      i++;
      return { min: 1, max: undefined, q: '+' };
    }
    if (c === '?') {
      i++;
      return { min: 0, max: 1, q: '?' };
    }
    if (c !== '{') return undefined;
    i++;
    const min = digits();
    if (min === undefined) fail();
    let max: number | undefined = min;
    if (pattern[i] === ',') {
      i++;
      max = digits();
    }
    if (pattern[i] !== '}') fail();
    i++;
    if (max !== undefined && max < min!) fail();
    return { min: min!, max, q: '{' };
  }

  function digits(): number | undefined {
    const start = i;
    while (i < n && pattern[i]! >= '0' && pattern[i]! <= '9') i++;
    if (i === start) return undefined;
    return Number(pattern.slice(start, i));
  }

  type Tok =
    | { k: 'char'; c: number }
    | { k: 'dash' }
    | { k: 'end' }
    | { k: 'coll' | 'class' | 'equiv'; name: string };

  function bracket(): RegexNode {
    const set = new Uint8Array(256);
    let neg = false;
    if (pattern[i] === '^') {
      neg = true;
      i++;
    }
    let atStart = true;
    let peeked: Tok | undefined;
    const next = (): Tok => {
      if (peeked) {
        const t = peeked;
        peeked = undefined;
        return t;
      }
      if (i >= n) fail();
      const c = pattern[i++]!;
      const start = atStart;
      atStart = false;
      if (c === '-') return { k: 'dash' };
      if (c === '[') {
        if (i >= n) fail();
        const d = pattern[i]!;
        if (d === '.' || d === ':' || d === '=') {
          i++;
          const close = pattern.indexOf(d, i);
          if (close < 0 || pattern[close + 1] !== ']') fail();
          const name = pattern.slice(i, close);
          i = close + 2;
          return { k: d === '.' ? 'coll' : d === ':' ? 'class' : 'equiv', name };
        }
        return { k: 'char', c: 91 };
      }
      if (c === ']' && !start) return { k: 'end' };
      return { k: 'char', c: c.charCodeAt(0) };
    };
    const peek = (): Tok => {
      peeked ??= next();
      return peeked;
    };

    // The last single char seen, not yet added (it may start a range); 'class' after a class.
    let last: number | 'class' | undefined;
    const pushChar = (c: number) => {
      if (typeof last === 'number') set[last] = 1;
      last = c;
    };
    const pushClass = () => {
      if (typeof last === 'number') set[last] = 1;
      last = 'class';
    };
    const addRange = (lo: number, hi: number) => {
      const s = (x: number) => (x >= 128 ? x - 256 : x);
      if (s(lo) > s(hi)) fail();
      for (let b = 0; b < 256; b++) if (s(b) >= s(lo) && s(b) <= s(hi)) set[b] = 1;
    };

    const first = peek();
    if (first.k === 'char') {
      next();
      last = first.c;
    } else if (first.k === 'dash') {
      next();
      last = 45;
    }
    for (;;) {
      const t = next();
      if (t.k === 'end') break;
      if (t.k === 'coll') {
        const c = collatingElement(t.name);
        if (c === undefined) fail();
        pushChar(c!);
      } else if (t.k === 'equiv') {
        const c = collatingElement(t.name);
        if (c === undefined) fail();
        pushClass();
        const lower = (x: number) => (x >= 65 && x <= 90 ? x + 32 : x);
        for (let b = 0; b < 256; b++) if (lower(b) === lower(c!)) set[b] = 1;
      } else if (t.k === 'class') {
        const cls = bracketClass(t.name);
        if (!cls) fail();
        pushClass();
        for (let b = 0; b < 128; b++) if (cls!(b)) set[b] = 1;
      } else if (t.k === 'char') {
        pushChar(t.c);
      } else {
        // dash
        const after = peek();
        if (after.k === 'end') {
          next();
          pushChar(45);
          break;
        }
        if (typeof last !== 'number') fail();
        if (after.k === 'char') {
          next();
          addRange(last as number, after.c);
        } else if (after.k === 'dash') {
          next();
          addRange(last as number, 45);
        } else {
          fail();
        }
        last = undefined;
      }
    }
    if (typeof last === 'number') set[last] = 1;
    if (neg) for (let b = 0; b < 256; b++) set[b] = set[b] ? 0 : 1;
    return { t: 'set', set };
  }

  function literal(c: number): RegexNode {
    const set = new Uint8Array(256);
    set[c] = 1;
    return { t: 'set', set, single: c };
  }

  try {
    const root = disjunction();
    if (i !== n) fail();
    return { root, groups };
  } catch (e) {
    if (e instanceof Fail) throw new RegexError('INVALID_REGEX', pattern);
    throw e;
  }
}
