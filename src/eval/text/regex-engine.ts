// A matcher that reproduces libstdc++'s std::regex depth-first executor for POSIX grammars, which
// is what Nix 2.8's builtins.match/split run. Its results differ from JavaScript's RegExp in ways
// Nix code can observe:
// - alternation is explored on both sides and the *longest* match wins (for a search);
// - a capture group keeps its value from an earlier iteration of an enclosing loop
//   (`((a)|b)*` on "ab" gives [ "b" "a" ]);
// - a loop may take one extra empty iteration (`(a?)*` on "a" gives [ "" ]).
// The NFA mirrors libstdc++'s construction (a repeat node per loop / per optional copy) and the
// search is an explicit-stack DFS, so long inputs do not exhaust the JS call stack.

import type { ParsedRegex, RegexNode } from './regex-parse.js';

const Op = { Match: 0, Bol: 1, Eol: 2, GroupBegin: 3, GroupEnd: 4, Alt: 5, Repeat: 6, Accept: 7 } as const;
type Op = (typeof Op)[keyof typeof Op];

interface State {
  op: Op;
  next: number;
  /** Alt: the left branch; Repeat: the loop body. */
  alt: number;
  set?: Uint8Array;
  group?: number;
}

export interface Nfa {
  states: State[];
  start: number;
  groups: number;
}

export function buildNfa(parsed: ParsedRegex): Nfa {
  const states: State[] = [];
  const add = (op: Op, next: number, extra: Partial<State> = {}): number => {
    states.push({ op, next, alt: -1, ...extra });
    return states.length - 1;
  };
  const build = (node: RegexNode, k: number): number => {
    switch (node.t) {
      case 'set':
        return add(Op.Match, k, { set: node.set });
      case 'bol':
        return add(Op.Bol, k);
      case 'eol':
        return add(Op.Eol, k);
      case 'group': {
        const end = add(Op.GroupEnd, k, { group: node.index });
        return add(Op.GroupBegin, build(node.body, end), { group: node.index });
      }
      case 'seq': {
        let cur = k;
        for (let i = node.items.length - 1; i >= 0; i--) cur = build(node.items[i]!, cur);
        return cur;
      }
      case 'alt': {
        const left = build(node.left, k);
        const right = build(node.right, k);
        return add(Op.Alt, right, { alt: left });
      }
      case 'repeat': {
        let cur = k;
        if (node.max === undefined) {
          const r = add(Op.Repeat, k);
          states[r]!.alt = build(node.body, r);
          cur = r;
        } else {
          for (let i = node.max - node.min; i > 0; i--) {
            const r = add(Op.Repeat, k);
            states[r]!.alt = build(node.body, cur);
            cur = r;
          }
        }
        for (let i = 0; i < node.min; i++) cur = build(node.body, cur);
        return cur;
      }
    }
  };
  const accept = add(Op.Accept, -1);
  const end = add(Op.GroupEnd, accept, { group: 0 });
  const start = add(Op.GroupBegin, build(parsed.root, end), { group: 0 });
  return { states, start, groups: parsed.groups };
}

export interface ExecFlags {
  /** Whole-input match (regex_match) instead of a match starting at `begin` (regex_search step). */
  exact?: boolean;
  /** match_not_null: an empty match does not count. */
  notNull?: boolean;
  /** match_prev_avail: `begin` is not the start of the input, so `^` cannot match there. */
  prevAvail?: boolean;
}

/**
 * Runs the DFS from `begin`. Returns capture offsets [start0, end0, start1, end1, …] (-1 when a
 * group did not participate), or undefined when nothing matches.
 */
export function execAt(nfa: Nfa, s: string, begin: number, flags: ExecFlags): Int32Array | undefined {
  const { states } = nfa;
  const end = s.length;
  const cur = new Int32Array(2 * (nfa.groups + 1)).fill(-1);
  const repPos = new Int32Array(states.length).fill(-1);
  const repCount = new Int32Array(states.length);
  let hasSol = false;
  let solPos = -1;
  let results: Int32Array | undefined;

  // Tasks: [kind, a, b, c]. Kinds: 0 visit(state a, pos b); 1 restore cur[a] = b;
  // 2 restore rep of state a to (pos b, count c); 3 repeat-skip(state a, pos b);
  // 4 alt-right(state a, pos b); 5 alt-or(saved b).
  const stack: number[] = [0, nfa.start, begin, 0];
  while (stack.length > 0) {
    const c = stack.pop()!;
    const b = stack.pop()!;
    const a = stack.pop()!;
    const kind = stack.pop()!;
    if (kind === 1) {
      cur[a] = b;
      continue;
    }
    if (kind === 2) {
      repPos[a] = b;
      repCount[a] = c;
      continue;
    }
    if (kind === 3) {
      if (!hasSol) stack.push(0, states[a]!.next, b, 0);
      continue;
    }
    if (kind === 4) {
      stack.push(5, 0, hasSol ? 1 : 0, 0);
      hasSol = false;
      stack.push(0, states[a]!.next, b, 0);
      continue;
    }
    if (kind === 5) {
      hasSol = hasSol || b === 1;
      continue;
    }
    const st = states[a]!;
    const pos = b;
    switch (st.op) {
      case Op.Match:
        if (pos < end && st.set![s.charCodeAt(pos)]) stack.push(0, st.next, pos + 1, 0);
        break;
      case Op.Bol:
        if (pos === begin && !flags.prevAvail) stack.push(0, st.next, pos, 0);
        break;
      case Op.Eol:
        if (pos === end) stack.push(0, st.next, pos, 0);
        break;
      case Op.GroupBegin: {
        const slot = 2 * st.group!;
        stack.push(1, slot, cur[slot]!, 0, 0, st.next, pos, 0);
        cur[slot] = pos;
        break;
      }
      case Op.GroupEnd: {
        const slot = 2 * st.group! + 1;
        stack.push(1, slot, cur[slot]!, 0, 0, st.next, pos, 0);
        cur[slot] = pos;
        break;
      }
      case Op.Alt:
        stack.push(4, a, pos, 0, 0, st.alt, pos, 0);
        break;
      case Op.Repeat: {
        stack.push(3, a, pos, 0);
        if (repCount[a] === 0 || repPos[a] !== pos) {
          stack.push(2, a, repPos[a]!, repCount[a]!, 0, st.alt, pos, 0);
          repPos[a] = pos;
          repCount[a] = 1;
        } else if (repCount[a]! < 2) {
          stack.push(2, a, repPos[a]!, repCount[a]!, 0, st.alt, pos, 0);
          repCount[a]!++;
        }
        break;
      }
      case Op.Accept: {
        hasSol = flags.exact ? pos === end : true;
        if (pos === begin && flags.notNull) hasSol = false;
        if (hasSol && (solPos < 0 || pos > solPos)) {
          solPos = pos;
          results = cur.slice();
        }
        break;
      }
    }
  }
  return results;
}

/** regex_search: the first start position at or after `start` where the pattern matches. */
export function search(
  nfa: Nfa,
  s: string,
  start: number,
  flags: ExecFlags & { continuous?: boolean },
): Int32Array | undefined {
  const f = { ...flags, exact: false };
  let r = execAt(nfa, s, start, f);
  if (r || flags.continuous) return r;
  f.prevAvail = true;
  for (let begin = start + 1; begin <= s.length; begin++) {
    r = execAt(nfa, s, begin, f);
    if (r) return r;
  }
  return undefined;
}

/**
 * How many NFA states libstdc++ would allocate for this pattern; it refuses patterns needing more
 * than 100000 (_GLIBCXX_REGEX_STATE_LIMIT), which Nix reports as "memory limit exceeded".
 */
export function stateCount(node: RegexNode): number {
  switch (node.t) {
    case 'set':
    case 'bol':
    case 'eol':
      return 1;
    case 'group':
      return 2 + stateCount(node.body);
    case 'seq':
      return node.items.reduce((n, x) => n + stateCount(x), 1);
    case 'alt':
      return stateCount(node.left) + stateCount(node.right) + 2;
    case 'repeat': {
      const c = stateCount(node.body);
      if (node.q === '*' || node.q === '+') return c + 1;
      if (node.q === '?') return c + 2;
      const tail = node.max === undefined ? c + 1 : (node.max - node.min) * (c + 1) + 1;
      return c + 1 + node.min * c + tail;
    }
  }
}

export const STATE_LIMIT = 100000;
