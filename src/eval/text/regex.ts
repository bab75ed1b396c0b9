// builtins.match and builtins.split with Nix 2.8's semantics (libstdc++ std::regex, POSIX
// extended grammar, bytewise on the UTF-8 bytes of the string). Strings here are byte strings:
// one JS char per byte (see src/eval/source.ts), so `.` matches one byte, as in Nix.
//
// Patterns are parsed and validated like libstdc++ does (regex-parse.ts). When JavaScript's
// backtracking provably agrees with libstdc++'s executor, the match runs on a translated RegExp;
// otherwise on an emulation of that executor (regex-engine.ts).

import { buildNfa, execAt, type Nfa, STATE_LIMIT, search, stateCount } from './regex-engine.js';
import { jsSafeForMatch, jsSafeForSearch, jsSource } from './regex-js.js';
import { parseRegex, RegexError } from './regex-parse.js';

export { RegexError } from './regex-parse.js';

export interface CompiledRegex {
  readonly pattern: string;
  readonly groups: number;
  /** Anchored at both ends, for builtins.match; undefined when the emulation must be used. */
  readonly exact: RegExp | undefined;
  /** Global, for builtins.split; undefined when the emulation must be used. */
  readonly global: RegExp | undefined;
  readonly nfa: Nfa;
}

const cache = new Map<string, CompiledRegex | RegexError>();

/** Parses and compiles a pattern (cached). Throws RegexError for what Nix 2.8 rejects. */
export function compileRegex(pattern: string): CompiledRegex {
  let r = cache.get(pattern);
  if (!r) {
    r = compileUncached(pattern);
    cache.set(pattern, r);
  }
  if (r instanceof RegexError) throw new RegexError(r.code, pattern);
  return r;
}

function compileUncached(pattern: string): CompiledRegex | RegexError {
  let parsed: ReturnType<typeof parseRegex>;
  try {
    parsed = parseRegex(pattern);
  } catch (e) {
    if (e instanceof RegexError) return e;
    throw e;
  }
  if (stateCount(parsed.root) + 3 > STATE_LIMIT) return new RegexError('REGEX_TOO_LARGE', pattern);
  const src = jsSource(parsed.root);
  return {
    pattern,
    groups: parsed.groups,
    exact: jsSafeForMatch(parsed.root) ? new RegExp(`^(?:${src})$`) : undefined,
    global: jsSafeForSearch(parsed.root) ? new RegExp(src, 'g') : undefined,
    nfa: buildNfa(parsed),
  };
}

function groupsOf(s: string, offs: Int32Array, groups: number): (string | null)[] {
  const out: (string | null)[] = [];
  for (let g = 1; g <= groups; g++) {
    const a = offs[2 * g]!;
    const b = offs[2 * g + 1]!;
    out.push(b < 0 ? null : s.slice(a, b));
  }
  return out;
}

/** builtins.match: the capture groups (null for a group that did not take part), or null. */
export function regexMatch(pattern: string, s: string): (string | null)[] | null {
  const re = compileRegex(pattern);
  if (re.exact) {
    const m = re.exact.exec(s);
    return m ? m.slice(1).map((x) => x ?? null) : null;
  }
  const offs = execAt(re.nfa, s, 0, { exact: true });
  return offs ? groupsOf(s, offs, re.groups) : null;
}

interface Found {
  start: number;
  end: number;
  groups: (string | null)[];
}

function found(s: string, offs: Int32Array, groups: number): Found {
  return { start: offs[0]!, end: offs[1]!, groups: groupsOf(s, offs, groups) };
}

function searchFrom(re: CompiledRegex, s: string, start: number, prevAvail: boolean): Found | undefined {
  if (re.global) {
    re.global.lastIndex = start;
    const m = re.global.exec(s);
    if (!m) return undefined;
    return { start: m.index, end: m.index + m[0].length, groups: m.slice(1).map((x) => x ?? null) };
  }
  const offs = search(re.nfa, s, start, { prevAvail });
  return offs ? found(s, offs, re.groups) : undefined;
}

/**
 * builtins.split: the parts of `s` between matches, interleaved with the capture lists of the
 * matches. Follows std::regex_iterator: after an empty match it first tries a non-empty match
 * at the same place, then moves on one byte.
 */
export function regexSplit(pattern: string, s: string): (string | (string | null)[])[] {
  const re = compileRegex(pattern);
  const matches: Found[] = [];
  let m = searchFrom(re, s, 0, false);
  let prevAvail = false;
  while (m) {
    matches.push(m);
    let start = m.end;
    if (m.start === m.end) {
      if (start === s.length) break;
      const offs = search(re.nfa, s, start, { prevAvail, notNull: true, continuous: true });
      if (offs) {
        m = found(s, offs, re.groups);
        continue;
      }
      start++;
    }
    prevAvail = true;
    m = searchFrom(re, s, start, true);
  }
  const out: (string | (string | null)[])[] = [];
  let prev = 0;
  for (const x of matches) {
    out.push(s.slice(prev, x.start), x.groups);
    prev = x.end;
  }
  out.push(s.slice(prev));
  return out;
}
