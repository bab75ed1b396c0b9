// `pre-build-hook`: its `extra-sandbox-paths` reach the sandbox of the build it was asked about
// (checked against Nix 2.8 building the same derivation with the same hook), an unknown command in
// its output fails the build, and without the hook the path is not visible.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sandboxSkipReason } from '../../build/test-support.js';
import { NIX_SANDBOX_CONF, noNix, runCliOnStore, runNix } from '../run-cli.test-util.js';

const skip = sandboxSkipReason();
const tmp = mkdtempSync(join(tmpdir(), 'tix-pre-hook-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
// Builds run as build users: they must be able to reach the shared directory.
chmodSync(tmp, 0o755);
const shared = join(tmp, 'shared');
mkdirSync(shared);
writeFileSync(join(shared, 'secret.txt'), 'from the host\n');
const good = join(tmp, 'good.sh');
const bad = join(tmp, 'bad.sh');
writeFileSync(good, `#!/bin/sh\nprintf 'extra-sandbox-paths\\n/hostdir=${shared}\\n\\n'\n`);
writeFileSync(bad, "#!/bin/sh\necho 'frobnicate'\n");
chmodSync(good, 0o755);
chmodSync(bad, 0o755);
const expr = (name: string) =>
  `derivation { name = "${name}"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "read x < /hostdir/secret.txt || exit 1; echo $x > $out" ]; }`;
const tix = (name: string, hook: string) =>
  runCliOnStore(
    tmp,
    'root',
    ['build', '--no-out-link', '-E', expr(name)],
    hook ? `pre-build-hook = ${hook}` : '',
  );

describe('pre-build-hook', { skip }, () => {
  it("adds the hook's extra-sandbox-paths to that build's sandbox", async () => {
    const r = await tix('hooked', good);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(tmp, 'root', r.stdout.trim()), 'utf8'), 'from the host\n');
    const without = await tix('unhooked', '');
    assert.equal(without.code, 100, without.stderr);
  });

  it('an unknown command in its output fails the build', async () => {
    const r = await tix('bad-hook', bad);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown pre-build hook command 'frobnicate'/);
  });

  it('Nix 2.8 builds the same output with the same hook', { skip: noNix }, async () => {
    const r = runNix(tmp, 'nix-build', ['--no-out-link', '-E', expr('hooked')], {
      conf: `${NIX_SANDBOX_CONF}pre-build-hook = ${good}
`,
    });
    assert.equal(r.status, 0, r.stderr);
    const ours = await tix('hooked', good);
    assert.equal(ours.stdout.trim(), r.stdout.toString().trim());
    assert.equal(readFileSync(join(tmp, 'nix-root', r.stdout.toString().trim()), 'utf8'), 'from the host\n');
  });
});
