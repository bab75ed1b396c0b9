// What `tix build` says it will do — `--dry-run` alone, and before building — against Nix 2.8's
// nix-build on the same expressions: derivations to build, dependencies first; paths to fetch from
// a binary cache with their sizes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NIX_SANDBOX_CONF, noNix, runCliOnStore, runNix } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-dry-run-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const file = join(tmp, 'chain.nix');
writeFileSync(
  file,
  `let mk = name: deps: derivation { inherit name; system = builtins.currentSystem; builder = "/bin/sh";
      args = [ "-c" "echo \${name} \${toString deps} > $out" ]; };
    a = mk "a" [ ];
    b = mk "b" [ a ];
    c = mk "c" [ b a ];
    d = mk "d" [ ];
in { inherit a c d; }
`,
);
const cache = `file://${join(tmp, 'cache')}`;
const tix = (root: string, args: string[], config = '') =>
  runCliOnStore(tmp, root, ['build', '--no-out-link', file, ...args], config);
function nix(root: string, args: string[], substituters = ''): { status: number | null; stderr: string } {
  return runNix(tmp, 'nix-build', ['--no-out-link', file, ...args], {
    root,
    conf: `${NIX_SANDBOX_CONF}require-sigs = false
substituters = ${substituters}
`,
  });
}
/** The lines of the report (Nix adds none of its own before them with --dry-run). */
const report = (stderr: string) =>
  stderr.split('\n').filter((l) => /^( {2}\/nix\/store\/| *this |these |don't know)/.test(l));

describe('tix build --dry-run', { skip: noNix }, () => {
  it('lists the derivations to build, dependencies first, as Nix 2.8', async () => {
    const ours = await tix('t1', ['-A', 'c', '-A', 'd', '--dry-run']);
    assert.equal(ours.code, 0, ours.stderr);
    const theirs = nix('n1', ['-A', 'c', '-A', 'd', '--dry-run']);
    assert.equal(theirs.status, 0, theirs.stderr);
    assert.deepEqual(report(ours.stderr), report(theirs.stderr));
    assert.equal(report(ours.stderr)[0], 'these 4 derivations will be built:');
    // Nothing was built.
    assert.doesNotMatch(ours.stderr, /building '/);
  });

  it('lists what a binary cache will provide, with sizes, as Nix 2.8', async () => {
    const built = await tix('t2', ['-A', 'a']);
    assert.equal(built.code, 0, built.stderr);
    const out = built.stdout.trim();
    const copied = await runCliOnStore(tmp, 't2', ['copy', '--to', cache, out]);
    assert.equal(copied.code, 0, copied.stderr);
    const ours = await tix('t3', ['-A', 'c', '--dry-run'], `substituters = ${cache}\nrequire-sigs = false`);
    const theirs = nix('n3', ['-A', 'c', '--dry-run'], cache);
    assert.equal(theirs.status, 0, theirs.stderr);
    assert.deepEqual(report(ours.stderr), report(theirs.stderr));
    assert.ok(report(ours.stderr).includes(`  ${out}`));
    assert.match(ours.stderr, /this path will be fetched \(0\.00 MiB download, 0\.00 MiB unpacked\):/);
  });
});
