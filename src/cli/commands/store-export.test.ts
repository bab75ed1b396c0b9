// `tix store export` / `tix store import` against nix-store --export / --import of Nix 2.8: the
// same bytes for the same paths, and each imports what the other exported.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { noNix, runCli, runCliOnStore, runNix } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-store-export-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const file = join(tmp, 'e.nix');
writeFileSync(join(tmp, 'data.txt'), 'some data\n');
writeFileSync(
  file,
  `let
  a = derivation { name = "a"; system = "x"; builder = "/bin/sh"; src = ./data.txt; };
in derivation { name = "b"; system = "x"; builder = "/bin/sh"; deps = [ a (builtins.toFile "t" "text") ]; }
`,
);

test('export writes what nix-store --export writes; each imports the other', { skip: noNix }, async () => {
  const inst = runNix(tmp, 'nix-instantiate', [file]);
  assert.equal(inst.status, 0, inst.stderr);
  const drv = inst.stdout.toString().trim();
  const ti = await runCliOnStore(tmp, 'tix-root', ['instantiate', file]);
  assert.equal(ti.stdout.trim(), drv);
  const closure = runNix(tmp, 'nix-store', ['-qR', drv]).stdout.toString().trim().split('\n');
  assert.equal(closure.length, 4);
  // Given in reverse, with a duplicate: the stream still has each path once, references first.
  const args = [...closure].reverse().concat(closure[0]!);
  const ours = await runCliOnStore(tmp, 'tix-root', ['store', 'export', ...args]);
  assert.equal(ours.code, 0, ours.stderr);
  const theirs = runNix(tmp, 'nix-store', ['--export', ...args]);
  assert.equal(theirs.status, 0, theirs.stderr);
  assert.ok(ours.out.length > 1000);
  assert.deepEqual(ours.out, theirs.stdout);

  // Nix's export into an empty tix store, and tix's into an empty Nix store.
  const intoTix = await runCli(['--store', `local?root=${join(tmp, 'fresh-tix')}`, 'store', 'import'], {
    cwd: tmp,
    env: { HOME: tmp, TIX_CONF_DIR: join(tmp, 'etc'), TIX_USER_CONF_FILES: '', PATH: process.env.PATH },
    stdin: theirs.stdout,
  });
  assert.equal(intoTix.code, 0, intoTix.stderr);
  const intoNix = runNix(tmp, 'nix-store', ['--import'], { root: 'fresh-nix', input: ours.out });
  assert.equal(intoNix.status, 0, intoNix.stderr);
  assert.equal(intoTix.stdout, intoNix.stdout.toString());
  const req = runNix(tmp, 'nix-store', ['-qR', drv], { root: 'fresh-nix' });
  assert.deepEqual(req.stdout.toString().trim().split('\n'), closure);
  const verify = await runCli(
    ['--store', `local?root=${join(tmp, 'fresh-tix')}`, 'store', 'verify', '--check-contents'],
    {
      cwd: tmp,
      env: { HOME: tmp, TIX_CONF_DIR: join(tmp, 'etc'), TIX_USER_CONF_FILES: '', PATH: process.env.PATH },
    },
  );
  assert.equal(verify.code, 0, verify.stderr);
});

test('import rejects what is not an export stream, naming where', async () => {
  const r = await runCli(['--store', `local?root=${join(tmp, 'bad')}`, 'store', 'import'], {
    cwd: tmp,
    env: { HOME: tmp, TIX_CONF_DIR: join(tmp, 'etc'), TIX_USER_CONF_FILES: '', PATH: process.env.PATH },
    stdin: Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]),
  });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^error: input doesn't look like something created by 'nix-store --export' at byte 0\n$/,
  );
});
