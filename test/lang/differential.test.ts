// The differential language test: every case of cases.txt is evaluated by Nix 2.8 and by tix, and
// the outcomes must agree (identical stdout, or both failing with exit code 1 and the same first
// line of the error message). Cases listed in
// known-failures.json must still disagree, so that a fix is noticed and the entry removed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type LangCase, loadCases, loadKnownFailures } from './cases.js';
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

const cases = loadCases();
const known = loadKnownFailures();
const nixReason = haveNix() ? undefined : 'nix-instantiate 2.8 is not installed';
const le = makeLangEnv();
let nixResults: Promise<Outcome[]> | undefined;
const nixOutcomes = () => {
  nixResults ??= mapLimit(cases, 4, (c) => runNix(c.expr, le));
  return nixResults;
};

const show = (o: Outcome) =>
  o.code === 0
    ? `ok: ${o.stdout.toString('latin1').trimEnd()}`
    : `exit ${o.code}: ${o.stderr.trim().split('\n')[0]}`;
const where = (c: LangCase) => `cases.txt:${c.line}: ${c.expr.replaceAll('\n', '\\n')}`;

test('the case list is well formed', () => {
  assert.ok(cases.length >= 300, `only ${cases.length} cases`);
  const seen = new Set<string>();
  for (const c of cases) {
    assert.ok(!seen.has(c.expr), `duplicate case ${where(c)}`);
    seen.add(c.expr);
  }
  for (const expr of known.keys()) assert.ok(seen.has(expr), `known failure is not a case: ${expr}`);
});

test('Nix 2.8 succeeds exactly on the cases not marked "!"', { skip: nixReason }, async () => {
  const results = await nixOutcomes();
  const wrong = cases
    .map((c, i) => ({ c, o: results[i]! }))
    .filter(({ c, o }) => (o.code !== 0) !== c.mustFail)
    .map(({ c, o }) => `${where(c)}\n    nix: ${show(o)}`);
  assert.deepEqual(wrong, []);
});

test('tix agrees with Nix 2.8 on every case', { skip: nixReason }, async (t) => {
  const runTix = await loadTix();
  if (!runTix) {
    t.skip('tix has no `eval` command yet');
    return;
  }
  const results = await nixOutcomes();
  const unexpected: string[] = [];
  const fixed: string[] = [];
  for (const [i, c] of cases.entries()) {
    const nix = results[i]!;
    const tix = await runTixEval(runTix, c.expr, le);
    const same = sameOutcome(nix, tix);
    if (!same && !known.has(c.expr))
      unexpected.push(`${where(c)}\n    nix: ${show(nix)}\n    tix: ${show(tix)}`);
    if (same && known.has(c.expr)) fixed.push(`${where(c)} (listed: ${known.get(c.expr)})`);
  }
  assert.deepEqual(unexpected, [], `${unexpected.length} cases differ from Nix 2.8`);
  assert.deepEqual(fixed, [], 'known failures that now pass: remove them from known-failures.json');
});
