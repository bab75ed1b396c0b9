// Reads test/lang/cases.txt (format described at its top) and test/lang/known-failures.json.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LangCase {
  /** The expression text, also the case's identity in known-failures.json. */
  expr: string;
  /** Line of the case in cases.txt. */
  line: number;
  /** Marked with `!`: must fail on Nix 2.8 (and so on tix). */
  mustFail: boolean;
}

/** The repository root, found from this file whether it runs from test/ or dist/test/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('lang cases: cannot find the repository root');
    dir = up;
  }
  return dir;
}

export function parseCases(text: string): LangCase[] {
  const lines = text.split('\n');
  const out: LangCase[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '' || raw.startsWith('#')) continue;
    let expr = raw;
    const line = i + 1;
    if (raw === '<<<') {
      const end = lines.indexOf('>>>', i + 1);
      if (end < 0) throw new Error(`cases.txt:${line}: '<<<' without '>>>'`);
      expr = lines.slice(i + 1, end).join('\n');
      i = end;
    }
    const mustFail = expr.startsWith('! ');
    out.push({ expr: mustFail ? expr.slice(2) : expr, line, mustFail });
  }
  return out;
}

export function loadCases(): LangCase[] {
  return parseCases(readFileSync(join(repoRoot(), 'test/lang/cases.txt'), 'utf8'));
}

/** Expression → reason, for cases where tix is known to differ from Nix 2.8. */
export function loadKnownFailures(): Map<string, string> {
  const json = JSON.parse(readFileSync(join(repoRoot(), 'test/lang/known-failures.json'), 'utf8')) as {
    cases: { expr: string; reason: string }[];
  };
  return new Map(json.cases.map((c) => [c.expr, c.reason]));
}
