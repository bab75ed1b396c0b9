// builtins.compareVersions, builtins.splitVersion and builtins.parseDrvName with Nix 2.8's
// semantics (libstore/names.cc). Strings are byte strings; character tests are the C locale's.

const isDigit = (c: string) => c >= '0' && c <= '9';
const isAlpha = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const INT_MAX = 2147483647;

/** Reads the version component starting at `p` (separators '.' and '-' skipped first). */
function nextComponent(s: string, p: number): { c: string; p: number } {
  while (p < s.length && (s[p] === '.' || s[p] === '-')) p++;
  if (p >= s.length) return { c: '', p };
  const start = p;
  if (isDigit(s[p]!)) while (p < s.length && isDigit(s[p]!)) p++;
  else while (p < s.length && !isDigit(s[p]!) && s[p] !== '.' && s[p] !== '-') p++;
  return { c: s.slice(start, p), p };
}

/** A component's value when it is a number that fits a C `int`, as Nix's string2Int<int>. */
function asInt(c: string): number | undefined {
  if (c === '' || !isDigit(c[0]!)) return undefined;
  const n = Number(c);
  return n <= INT_MAX ? n : undefined;
}

function componentsLT(c1: string, c2: string): boolean {
  const n1 = asInt(c1);
  const n2 = asInt(c2);
  if (n1 !== undefined && n2 !== undefined) return n1 < n2;
  if (c1 === '' && n2 !== undefined) return true;
  if (c1 === 'pre' && c2 !== 'pre') return true;
  if (c2 === 'pre') return false;
  if (n2 !== undefined) return true;
  if (n1 !== undefined) return false;
  return c1 < c2;
}

/** -1, 0 or 1, as builtins.compareVersions. */
export function compareVersions(v1: string, v2: string): -1 | 0 | 1 {
  let p1 = 0;
  let p2 = 0;
  while (p1 < v1.length || p2 < v2.length) {
    const a = nextComponent(v1, p1);
    const b = nextComponent(v2, p2);
    p1 = a.p;
    p2 = b.p;
    if (componentsLT(a.c, b.c)) return -1;
    if (componentsLT(b.c, a.c)) return 1;
  }
  return 0;
}

/** builtins.splitVersion. */
export function splitVersion(v: string): string[] {
  const out: string[] = [];
  let p = 0;
  while (p < v.length) {
    const r = nextComponent(v, p);
    if (r.c === '') break;
    out.push(r.c);
    p = r.p;
  }
  return out;
}

/** builtins.parseDrvName: the name ends at the first '-' not followed by a letter. */
export function parseDrvName(s: string): { name: string; version: string } {
  for (let i = 0; i + 1 < s.length; i++) {
    if (s[i] === '-' && !isAlpha(s[i + 1]!)) return { name: s.slice(0, i), version: s.slice(i + 1) };
  }
  return { name: s, version: '' };
}
