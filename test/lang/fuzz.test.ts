// Mutation fuzzing of the language against Nix 2.8: the cases of cases.txt with a few characters
// deleted, repeated or replaced by tokens of the language become malformed or different programs,
// and each must come out of tix as out of `nix-instantiate --eval --strict` (the same stdout, or a
// failure with the same first line of the error) and never as a crash of tix itself. Deterministic
// (seeded); TIX_SOAK=1 runs ten times as many cases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 as prng } from '../../src/formats/prng.js';
import { loadCases } from './cases.js';
import {
  haveNix,
  loadTix,
  makeLangEnv,
  mapLimit,
  type Outcome,
  runNix,
  runTixEval,
  sameOutcome,
} from './oracle.js';

const COUNT = process.env.TIX_SOAK === '1' ? 3000 : 300;

const TOKENS = [
  '(',
  ')',
  '{',
  '}',
  '[',
  ']',
  ';',
  ':',
  '.',
  '?',
  '@',
  ',',
  '=',
  '...',
  'let ',
  ' in ',
  'rec ',
  'with ',
  'inherit ',
  'if ',
  ' then ',
  ' else ',
  'assert ',
  ' or ',
  '//',
  '++',
  '+',
  '-',
  '*',
  '/',
  '!',
  '==',
  '!=',
  '<',
  '>',
  '<=',
  '->',
  '&&',
  '||',
  '"',
  "''",
  '${',
  '$',
  '\\',
  'x',
  'null',
  'true',
  '0',
  '1',
  '1.5',
  './a',
  '~/x',
  'http://x',
  '\n',
  ' ',
  "'",
  '#',
  '/*',
  '*/',
  'a.b',
  "''$",
  "'''",
];

/** One or two edits: delete a span, insert a token, repeat a span, or replace a span by a token. */
export function mutate(s: string, rnd: () => number): string {
  const pick = (n: number) => Math.floor(rnd() * n);
  const edits = 1 + pick(2);
  for (let k = 0; k < edits; k++) {
    const i = pick(s.length + 1);
    const j = Math.min(s.length, i + pick(6));
    const token = TOKENS[pick(TOKENS.length)]!;
    switch (pick(4)) {
      case 0:
        s = s.slice(0, i) + s.slice(j);
        break;
      case 1:
        s = s.slice(0, i) + token + s.slice(i);
        break;
      case 2:
        s = s.slice(0, i) + s.slice(i, j) + s.slice(i);
        break;
      default:
        s = s.slice(0, i) + token + s.slice(j);
    }
  }
  return s;
}

/**
 * The mutants to run: distinct, and none whose outcome depends on more than the program (traces
 * print positions the two may phrase apart; time and environment differ) or that a repeated digit
 * could make run for long (a longer number than its case had).
 */
function mutants(count: number): string[] {
  const seeds = loadCases().map((c) => c.expr);
  const rnd = prng(20261206);
  const out = new Set<string>();
  const longest = (s: string) => Math.max(0, ...(s.match(/\d+/g) ?? []).map((d) => d.length));
  for (let tries = 0; out.size < count && tries < count * 20; tries++) {
    const seed = seeds[Math.floor(rnd() * seeds.length)]!;
    const m = mutate(seed, rnd);
    if (m === seed || /trace|currentTime|getEnv|storePath|fetch|__curPos|\bimport\b/.test(m)) continue;
    if (longest(m) > Math.max(4, longest(seed))) continue;
    out.add(m);
  }
  return [...out];
}

const nixReason = haveNix() ? undefined : 'nix-instantiate 2.8 is not installed';

test(`${COUNT} mutated cases: tix and Nix 2.8 agree, and tix never crashes`, {
  skip: nixReason,
}, async () => {
  const runTix = await loadTix();
  assert.ok(runTix, 'tix has an eval command');
  const le = makeLangEnv();
  const exprs = mutants(COUNT);
  assert.equal(exprs.length, COUNT);
  const nix = await mapLimit(exprs, 4, (e) => runNix(e, le));
  const show = (o: Outcome) =>
    o.code === 0
      ? `ok: ${o.stdout.toString('latin1').trimEnd()}`
      : `exit ${o.code}: ${o.stderr.trim().split('\n')[0]}`;
  const differ: string[] = [];
  let failed = 0;
  for (const [i, e] of exprs.entries()) {
    const tix = await runTixEval(runTix, e, le);
    // A mutant that prints the builtins set shows the time of each run.
    if (nix[i]!.stdout.includes('currentTime = ')) {
      const stable = (o: Outcome) => ({
        ...o,
        stdout: Buffer.from(o.stdout.toString('latin1').replace(/currentTime = \d+/, ''), 'latin1'),
      });
      nix[i] = stable(nix[i]!);
      tix.stdout = stable(tix).stdout;
    }
    if (nix[i]!.code !== 0) failed++;
    if (tix.code === -2 || !sameOutcome(nix[i]!, tix))
      differ.push(`${JSON.stringify(e)}\n    nix: ${show(nix[i]!)}\n    tix: ${show(tix)}`);
  }
  assert.deepEqual(differ, [], `${differ.length} of ${exprs.length} mutants differ`);
  // The mutants exercise both outcomes: errors (mostly syntax) and evaluations that still succeed.
  assert.ok(failed > COUNT / 5 && failed < COUNT - COUNT / 20, `${failed} of ${COUNT} failed on Nix`);
});
