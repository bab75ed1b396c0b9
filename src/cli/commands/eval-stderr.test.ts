// `tix eval` writes the whole of an error as nix-instantiate 2.8 does, compared in the same run:
// message lines indented and trailing blanks dropped, source excerpts (a file's unterminated last
// line not shown), "Did you mean" suggestions, and where infinite recursion is reported.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { noNix, runCliOnStore, runNix } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-eval-stderr-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function sameStderr(args: string[]): Promise<void> {
  const ours = await runCliOnStore(tmp, 'tix-root', ['eval', ...args]);
  const theirs = runNix(tmp, 'nix-instantiate', ['--eval', ...args]);
  assert.equal(ours.code, theirs.status, args.join(' '));
  assert.equal(ours.stderr, theirs.stderr, args.join(' '));
}

test('errors read byte for byte as with nix-instantiate', { skip: noNix }, async () => {
  for (const expr of [
    'throw "a  \\nb\\t\\n\\n  c  \\n\\n"',
    'builtins.abort "m\\n"',
    'let f = { abc, abd, xyz, ab }: 1; in f { abc = 1; abd = 1; xyz = 1; ab = 1; ac = 2; }',
    '{ abc = 1; abd = 1; ab = 1; a = 1; b = 1; c = 1; ac1 = 1; }.ac',
    'let x = x; in x',
    'let a = { b = a.b; }; in a.b',
    'let s = { inherit (s) a; }; in s.a',
  ]) {
    await sameStderr(['-E', expr]);
    await sameStderr(['--show-trace', '-E', expr]);
  }
  const file = join(tmp, 'e.nix');
  writeFileSync(file, 'let\n  y = 1;   \n  x = builtins.foo;  \n\tz = 2;\t\nin x\n');
  await sameStderr([file]);
  writeFileSync(file, 'let\n  x = 1;\nin x.y');
  await sameStderr([file]);
  writeFileSync(file, '{ abc = 1; abd = 2; }\n');
  await sameStderr([file, '-A', 'ab']);
});
