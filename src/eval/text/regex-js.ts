// Translation of a parsed POSIX regex into an equivalent JavaScript RegExp source over byte
// strings, and the test of when JavaScript's backtracking gives the same answers as libstdc++'s
// executor (see regex-engine.ts): no capture group and no alternation inside a loop, and for a
// search (builtins.split) no alternation at all.

import type { RegexNode } from './regex-parse.js';

const hex = (b: number) => `\\x${b.toString(16).padStart(2, '0')}`;

function byteSource(b: number): string {
  const ch = String.fromCharCode(b);
  return /[A-Za-z0-9_ ]/.test(ch) ? ch : hex(b);
}

function setSource(set: Uint8Array): string {
  let out = '';
  let count = 0;
  for (let b = 0; b < 256; ) {
    if (!set[b]) {
      b++;
      continue;
    }
    let e = b;
    while (e + 1 < 256 && set[e + 1]) e++;
    out += e === b ? hex(b) : `${hex(b)}-${hex(e)}`;
    count += e - b + 1;
    b = e + 1;
  }
  if (count === 1) return byteSource(set.indexOf(1));
  return `[${out}]`;
}

export function jsSource(node: RegexNode): string {
  switch (node.t) {
    case 'set':
      return node.single !== undefined ? byteSource(node.single) : setSource(node.set);
    case 'bol':
      return '^';
    case 'eol':
      return '$';
    case 'group':
      return `(${jsSource(node.body)})`;
    case 'seq':
      return node.items.length === 0 ? '(?:)' : node.items.map(jsSource).join('');
    case 'alt':
      return `(?:${jsSource(node.left)}|${jsSource(node.right)})`;
    case 'repeat': {
      const q =
        node.max === undefined
          ? node.min === 0
            ? '*'
            : `{${node.min},}`
          : node.min === node.max
            ? `{${node.min}}`
            : `{${node.min},${node.max}}`;
      return `(?:${jsSource(node.body)})${q}`;
    }
  }
}

/** Whether `node` contains a node of kind `t`. */
function contains(node: RegexNode, t: RegexNode['t']): boolean {
  if (node.t === t) return true;
  switch (node.t) {
    case 'group':
    case 'repeat':
      return contains(node.body, t);
    case 'seq':
      return node.items.some((n) => contains(n, t));
    case 'alt':
      return contains(node.left, t) || contains(node.right, t);
    default:
      return false;
  }
}

function loopsAreSimple(node: RegexNode): boolean {
  switch (node.t) {
    case 'repeat':
      return !contains(node.body, 'group') && !contains(node.body, 'alt');
    case 'group':
      return loopsAreSimple(node.body);
    case 'seq':
      return node.items.every(loopsAreSimple);
    case 'alt':
      return loopsAreSimple(node.left) && loopsAreSimple(node.right);
    default:
      return true;
  }
}

/** Whether JavaScript gives libstdc++'s result for a whole-string match. */
export function jsSafeForMatch(node: RegexNode): boolean {
  return loopsAreSimple(node);
}

/** Whether JavaScript gives libstdc++'s result for a search (leftmost, then POSIX-longest). */
export function jsSafeForSearch(node: RegexNode): boolean {
  return loopsAreSimple(node) && !contains(node, 'alt');
}
