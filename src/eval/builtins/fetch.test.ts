// Fetchers through the file-system EvalIO: file:// URLs and local paths work, others fail clearly.
// Expected store paths are Nix 2.8's for the same contents.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { evalError, evalPrint } from '../test-util.js';

const dir = mkdtempSync(join(tmpdir(), 'tix-fetch-'));
mkdirSync(join(dir, 'src/sub'), { recursive: true });
writeFileSync(join(dir, 'src/a.txt'), 'hello\n', { mode: 0o644 });
writeFileSync(join(dir, 'src/sub/b'), 'x\n', { mode: 0o644 });
execFileSync('tar', ['-czf', join(dir, 'src.tar.gz'), '-C', dir, 'src']);

test('fetchurl and fetchTarball of file:// URLs', () => {
  assert.equal(
    evalPrint(`[ (builtins.fetchurl "file://${dir}/src/a.txt") (builtins.fetchurl { url = "file://${dir}/src/a.txt"; name = "foo"; })
      (builtins.fetchTarball "file://${dir}/src.tar.gz") ]`),
    '[ "/nix/store/fdwm55r4skpypx1gwzb7x69ckav1rv09-a.txt" "/nix/store/w8r2kfwk48haw3v8l15jjjvwnhhavxc6-foo" ' +
      '"/nix/store/by5hi2lfw7byb1bbhslhv20afy2649pb-source" ]',
  );
  const bad = evalError(
    `builtins.fetchurl { url = "file://${dir}/src/a.txt"; sha256 = "0000000000000000000000000000000000000000000000000000"; }`,
  );
  assert.equal(bad.code, 'HASH_MISMATCH');
  // Nix 2.8's text: the URL, and both hashes in base-32 with their type.
  assert.equal(
    bad.message,
    `hash mismatch in file downloaded from 'file://${dir}/src/a.txt':\n` +
      '  specified: sha256:0000000000000000000000000000000000000000000000000000\n' +
      '  got:       sha256:00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq',
  );
  const tarball = evalError(
    `builtins.fetchTarball { url = "file://${dir}/src.tar.gz"; sha256 = "0000000000000000000000000000000000000000000000000000"; }`,
  );
  assert.match(
    tarball.message,
    new RegExp(`^hash mismatch in file downloaded from 'file://${dir}/src.tar.gz':`),
  );
  for (const fetcher of ['builtins.fetchurl', 'builtins.fetchTarball']) {
    const missing = evalError(`${fetcher} "file://${dir}/missing"`);
    assert.equal(
      missing.message,
      `unable to download 'file://${dir}/missing': Couldn't read a file:// file (37)`,
    );
  }
});

test('fetchGit of a local repository, clean and dirty', () => {
  const repo = join(dir, 'repo');
  mkdirSync(repo);
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', repo, '-c', 'user.email=a@b', '-c', 'user.name=n', ...args], {
      encoding: 'utf8',
    });
  git('init', '-q');
  writeFileSync(join(repo, 'f'), 'hi\n');
  git('add', 'f');
  git('commit', '-q', '-m', 'init');
  const rev = git('rev-parse', 'HEAD').trim();
  const r = evalPrint(`let g = builtins.fetchGit ${repo}; in [ g.rev g.revCount g.outPath g.narHash ]`);
  assert.equal(
    r,
    `[ "${rev}" 1 "/nix/store/s1gbqa4hazf27kcgbjz2rc5mbjjl2n9j-source" "sha256-MyEwKR7frLkJXyCTAYmhACAemt2h4EszAo04ltEu78o=" ]`,
  );
  writeFileSync(join(repo, 'f'), 'hi\nchange\n');
  const traces: string[] = [];
  const d = evalPrint(`let g = builtins.fetchGit ${repo}; in [ g.rev g.revCount g.outPath ]`, {
    trace: (l) => traces.push(l),
  });
  assert.equal(d, `[ "${'0'.repeat(40)}" 0 "/nix/store/3244qm4zqhxq4nvscq3dz5x8b57fkay7-source" ]`);
  assert.deepEqual(traces, [`warning: Git tree '${repo}' is dirty`]);
});

test('other URLs fail with a clear error', () => {
  const e = evalError('builtins.fetchurl "https://example.org/x"');
  assert.equal(e.code, 'FETCH');
  assert.match(e.message, /can only fetch file:\/\/ URLs and local paths/);
});
