// `post-build-hook` through `tix build`: the hook runs after a build with DRV_PATH and OUT_PATHS,
// its output shown as Nix 2.8 shows it, not for outputs that were already valid; a failing hook
// fails the build with Nix's message and exit code 1 (compared with Nix 2.8 when installed).
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NIX_SANDBOX_CONF, noNix, runCliOnStore, runNix } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-post-hook-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const record = join(tmp, 'record');
const good = join(tmp, 'good.sh');
const bad = join(tmp, 'bad.sh');
writeFileSync(good, `#!/bin/sh\necho "hook-ran"\necho "$DRV_PATH|$OUT_PATHS" >> ${record}\n`);
writeFileSync(bad, '#!/bin/sh\necho failing-hook\nexit 3\n');
chmodSync(good, 0o755);
chmodSync(bad, 0o755);
const expr = (name: string) =>
  `derivation { name = "${name}"; outputs = [ "out" "dev" ]; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo a > $out; echo b > $dev" ]; }`;
const tix = (hook: string, name: string) =>
  runCliOnStore(tmp, 'root', ['build', '--no-out-link', '-E', expr(name)], `post-build-hook = ${hook}`);

describe('post-build-hook', () => {
  it('runs after a build with DRV_PATH and OUT_PATHS, not for valid outputs', async () => {
    const r = await tix(good, 'hooked');
    assert.equal(r.code, 0, r.stderr);
    const [line] = readFileSync(record, 'utf8').trim().split('\n');
    const [drv, outPaths] = line!.split('|');
    assert.match(drv!, /^\/nix\/store\/[a-z0-9]{32}-hooked\.drv$/);
    // Both outputs, sorted, although nix-build prints only `out`.
    const outs = outPaths!.split(' ');
    assert.equal(outs.length, 2);
    assert.deepEqual(outs, [...outs].sort());
    assert.ok(outs.includes(r.stdout.trim()));
    assert.ok(outs.some((o) => /^\/nix\/store\/[a-z0-9]{32}-hooked-dev$/.test(o)));
    assert.match(
      r.stderr,
      new RegExp(`running post-build-hook '${good}'\\.\\.\\.\\npost-build-hook: hook-ran\\n`),
    );
    const again = await tix(good, 'hooked');
    assert.equal(again.code, 0);
    assert.equal(readFileSync(record, 'utf8').trim().split('\n').length, 1, 'not run for valid outputs');
  });

  it('a failing hook fails the build as in Nix 2.8', async () => {
    const r = await tix(bad, 'hook-fails');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /post-build-hook: failing-hook\n/);
    assert.match(r.stderr, new RegExp(`error: program '${bad}' failed with exit code 3\\n`));
  });

  it('Nix 2.8 prints the same for a failing hook', { skip: noNix }, () => {
    const r = runNix(tmp, 'nix-build', ['--no-out-link', '-E', expr('hook-fails')], {
      conf: `${NIX_SANDBOX_CONF}post-build-hook = ${bad}
`,
    });
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(`running post-build-hook '${bad}'\\.\\.\\.\\npost-build-hook: failing-hook\\n`),
    );
    assert.match(r.stderr, new RegExp(`error: program '${bad}' failed with exit code 3\\n`));
    assert.ok(existsSync(join(tmp, 'nix-root')));
  });
});
