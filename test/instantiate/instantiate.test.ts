// `tix instantiate` against Nix 2.8's `nix-instantiate` on the same file of 64 derivation
// expressions (derivations.nix: dependencies, several outputs, passAsFile, structured attrs, fixed
// outputs, paths and directories copied to the store, toFile with references, <tix>): the same
// .drv paths in the same order, and byte-identical .drv files and copied sources in both stores.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const here = new URL('.', import.meta.url).pathname;
const repo = join(here, '../../..');
const file = join(repo, 'test/instantiate/derivations.nix');
const haveNix = spawnSync('nix-instantiate', ['--version'], { encoding: 'utf8' }).stdout?.includes('2.8');
const dir = mkdtempSync(join(tmpdir(), 'tix-instantiate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): string[] {
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8', cwd: dir });
  assert.equal(r.status, 0, `${cmd} failed: ${r.stderr}`);
  return r.stdout.trim().split('\n');
}

test('tix instantiate gives the .drv paths and bytes of nix-instantiate 2.8', {
  skip: !haveNix && 'Nix 2.8 is not installed',
}, () => {
  mkdirSync(join(dir, 'etc'));
  writeFileSync(join(dir, 'etc/nix.conf'), 'substituters =\nbuild-users-group =\n');
  const nixRoot = join(dir, 'nix');
  const tixRoot = join(dir, 'tix');
  const nix = run('nix-instantiate', ['-I', `tix=${join(repo, 'nix/tix')}`, file], {
    NIX_REMOTE: `local?root=${nixRoot}`,
    NIX_CONF_DIR: join(dir, 'etc'),
  });
  const tix = run(join(repo, 'bin/tix'), ['instantiate', file], { TIX_STORE: `local?root=${tixRoot}` });
  assert.ok(nix.length >= 50, `only ${nix.length} derivations`);
  assert.deepEqual(tix, nix);
  // Every .drv and every source copied into the store is byte-identical.
  const nixStore = join(nixRoot, 'nix/store');
  const tixStore = join(tixRoot, 'nix/store');
  const files = readdirSync(nixStore).filter(
    (n) => n.endsWith('.drv') || n.includes('-with-ref') || n.includes('plain.txt'),
  );
  assert.ok(files.length >= 64, `${files.length} store files`);
  for (const name of files) {
    assert.deepEqual(readFileSync(join(tixStore, name)), readFileSync(join(nixStore, name)), name);
  }
  const tixNames = new Set(readdirSync(tixStore));
  for (const name of readdirSync(nixStore)) {
    if (!name.endsWith('.lock') && name !== '.links') assert.ok(tixNames.has(name), `tix lacks ${name}`);
  }
});
