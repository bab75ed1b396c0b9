// `tix build --check` against Nix 2.8's `nix-build --check` on the same expressions: a
// deterministic derivation passes (exit 0), one whose output changes from build to build fails as
// "may not be deterministic" (exit 104) and, with -K, keeps the new output as `<path>.check`; a
// derivation that was never built cannot be checked (exit 1).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NIX_SANDBOX_CONF, noNix, runCliOnStore, runNix } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-check-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const file = join(tmp, 'check.nix');
writeFileSync(
  file,
  `{ det = derivation { name = "det"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo same > $out" ]; };
  nondet = derivation { name = "nondet"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "cat /proc/sys/kernel/random/uuid > $out" ]; };
  never = derivation { name = "never"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo x > $out" ]; }; }
`,
);
const tix = (args: string[]) => runCliOnStore(tmp, 'root', ['build', '--no-out-link', file, ...args]);
function nix(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = runNix(tmp, 'nix-build', ['--no-out-link', file, ...args], { conf: NIX_SANDBOX_CONF });
  return { ...r, stdout: r.stdout.toString() };
}
/** The message with this store's root path taken out, so that tix's and Nix's compare. */
const message = (stderr: string, root: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('error: derivation') || l.startsWith('error: some outputs'))
    .map((l) => l.split(join(tmp, root)).join('ROOT'));

describe('tix build --check', { skip: noNix }, () => {
  it('exit codes and messages as Nix 2.8: deterministic, not deterministic, never built', async () => {
    for (const attr of ['det', 'nondet']) {
      assert.equal((await tix(['-A', attr])).code, 0);
      assert.equal(nix(['-A', attr]).status, 0);
    }
    for (const [attr, code] of [
      ['det', 0],
      ['nondet', 104],
      ['never', 1],
    ] as const) {
      const ours = await tix(['-A', attr, '--check']);
      const theirs = nix(['-A', attr, '--check']);
      assert.equal(theirs.status, code, theirs.stderr);
      assert.equal(ours.code, code, ours.stderr);
      assert.deepEqual(message(ours.stderr, 'root'), message(theirs.stderr, 'nix-root'), attr);
      assert.match(ours.stderr, /checking outputs of '\/nix\/store\/[a-z0-9]{32}-[a-z]+\.drv'\.\.\./);
    }
  });

  it('with -K the differing output is kept beside the valid one as <path>.check', async () => {
    const built = (await tix(['-A', 'nondet'])).stdout.trim();
    const real = join(tmp, 'root', built);
    const before = readFileSync(real, 'utf8');
    const r = await tix(['-A', 'nondet', '--check', '-K']);
    assert.equal(r.code, 104);
    assert.ok(r.stderr.includes(`output '${real}' differs from '${real}.check'`), r.stderr);
    assert.ok(existsSync(`${real}.check`));
    assert.notEqual(readFileSync(`${real}.check`, 'utf8'), before);
    assert.equal(readFileSync(real, 'utf8'), before, 'the valid output is left as it was');
  });
});
