// `tix build --repair` and `tix store realise --repair` (nix-build / nix-store -r --repair):
// damaged paths anywhere in what a request needs are built again from their derivation, or fetched
// again from a substituter, or the request fails naming the path; good paths are left alone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCliOnStore } from '../run-cli.test-util.js';

const skip = spawnSync('bwrap', ['--version']).status !== 0 ? 'bubblewrap (bwrap) is not installed' : false;
const tmp = mkdtempSync(join(tmpdir(), 'tix-build-repair-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const file = join(tmp, 'r.nix');
writeFileSync(join(tmp, 'src.txt'), 'source\n');
writeFileSync(
  file,
  `let
  a = derivation { name = "a"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo aaa > $out" ]; };
  b = derivation { name = "b"; system = builtins.currentSystem; builder = "/bin/sh"; src = ./src.txt; args = [ "-c" "echo \${a} > $out" ]; };
in { inherit a b; }
`,
);
const tix = (args: string[]) => runCliOnStore(tmp, 'root', args);
const real = (p: string) => join(tmp, 'root', p);
function damage(p: string): void {
  chmodSync(real(p), 0o644);
  writeFileSync(real(p), 'damaged\n');
}

describe('--repair', { skip }, () => {
  let a = '';
  let b = '';
  let bDrv = '';
  let src = '';
  before(async () => {
    const rb = await tix(['build', '--no-out-link', file, '-A', 'b']);
    assert.equal(rb.code, 0, rb.stderr);
    b = rb.stdout.trim();
    a = readFileSync(real(b), 'utf8').trim();
    bDrv = (await tix(['store', 'query', '--deriver', b])).stdout.trim();
    src = (await tix(['store', 'query', '--references', bDrv])).stdout
      .split('\n')
      .find((l) => l.endsWith('-src.txt'))!;
    assert.match(src, /-src\.txt$/);
  });

  it('builds again the derivation of a damaged dependency, and only that one', async () => {
    damage(a);
    const plain = await tix(['build', '--no-out-link', file, '-A', 'b']);
    assert.equal(plain.stdout, `${b}\n`);
    assert.equal(readFileSync(real(a), 'utf8'), 'damaged\n', 'without --repair nothing is checked');
    const r = await tix(['build', '--repair', '--no-out-link', file, '-A', 'b']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${b}\n`);
    assert.match(r.stderr, /^repairing outputs of '\/nix\/store\/[a-z0-9]{32}-a\.drv'\.\.\.$/m);
    assert.doesNotMatch(r.stderr, /-b\.drv'/);
    assert.equal(readFileSync(real(a), 'utf8'), 'aaa\n');
    const verify = await tix(['store', 'verify', '--check-contents']);
    assert.equal(verify.code, 0, verify.stderr);
    const again = await tix(['build', '--repair', '--no-out-link', file, '-A', 'b']);
    assert.doesNotMatch(again.stderr, /repairing/, 'nothing left to repair');
  });

  it('repairs a damaged requested output', async () => {
    damage(b);
    const r = await tix(['store', 'realise', '--repair', bDrv]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${b}\n`);
    assert.match(r.stderr, /repairing outputs of '.*-b\.drv'/);
    assert.equal(readFileSync(real(b), 'utf8'), `${a}\n`);
  });

  it('fails on a damaged source that nothing can restore, and takes it from a substituter', async () => {
    const cache = `file://${join(tmp, 'cache')}`;
    const copied = await tix(['copy', '--to', cache, src]);
    assert.equal(copied.code, 0, copied.stderr);
    damage(src);
    const r = await tix(['store', 'realise', '--repair', bDrv]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^error: cannot repair path '${src}'$`, 'm'));
    const fromCache = await tix([
      'store',
      'realise',
      '--repair',
      '--option',
      'substituters',
      cache,
      '--option',
      'require-sigs',
      'false',
      bDrv,
    ]);
    assert.equal(fromCache.code, 0, fromCache.stderr);
    assert.equal(readFileSync(real(src), 'utf8'), 'source\n');
  });

  it('store verify --repair builds a damaged output again when no substituter has it', async () => {
    damage(a);
    const check = await tix(['store', 'verify', '--check-contents']);
    assert.equal(check.code, 1);
    assert.match(check.stderr, new RegExp(`path '${a}' was modified`));
    const r = await tix(['store', 'verify', '--check-contents', '--repair']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /repairing outputs of '.*-a\.drv'/);
    assert.equal(readFileSync(real(a), 'utf8'), 'aaa\n');
  });

  it('evaluation with --repair writes a damaged source again', async () => {
    damage(src);
    const r = await tix(['build', '--repair', '--no-out-link', file, '-A', 'b']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(real(src), 'utf8'), 'source\n');
    const verify = await tix(['store', 'verify', '--check-contents']);
    assert.equal(verify.code, 0, verify.stderr);
  });
});
