// `tix build` / `tix store realise` substituting from a file:// cache written by Nix 2.8's
// `nix copy --to file://…`: the output is fetched (same NAR bytes as Nix built) and nothing is
// built; an untrusted cache is ignored with a warning and the derivation is built; a tampered cache
// fails the build naming the reason, and `--fallback` builds instead.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  copyDrvClosure,
  NixOracle,
  nixSkipReason,
  openTixStore,
  removeDir,
  sandboxSkipReason,
  tempDir,
} from '../build/test-support.js';
import { TEST_PUBLIC, TEST_SECRET } from '../store/binary-cache.test-util.js';
import { collect } from '../store/test-util.js';
import { runCli } from './run-cli.test-util.js';

const skip = sandboxSkipReason() ?? nixSkipReason();
const OTHER_PUBLIC = 'other-cache-1:4Y0Kf6JcmB8bA1ZcV0Ipq5IX7nWTQ9Eh6bDg2ZOXmkU=';

const EXPR = `
let
  mk = name: script: attrs: derivation ({ inherit name; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" ("PATH=/bin; " + script) ]; } // attrs);
  dep = mk "hook-dep" "mkdir $out; echo dep > $out/file" {};
  top = mk "hook-top" "read x < $dep/file; echo \\"$x top\\" > $out" { inherit dep; };
in { inherit top dep; }
`;

describe('tix build with substituters', { skip }, () => {
  let dir: string;
  let nix: NixOracle;
  let topDrv: string;
  let topOut: string;
  let depOut: string;
  let cache: string;
  let tampered: string;
  let k = 0;

  before(() => {
    dir = tempDir('subst-cli');
    nix = new NixOracle(dir);
    [topDrv] = nix.instantiate(EXPR, ['top']);
    [topOut] = nix.build([topDrv!]);
    depOut = nix.query([
      '--query',
      '--outputs',
      nix.query(['--query', '--references', topDrv!]).find((p) => p.endsWith('-hook-dep.drv'))!,
    ])[0]!;
    writeFileSync(join(dir, 'sk'), TEST_SECRET);
    const copyTo = (name: string) => {
      const d = join(dir, name);
      execFileSync('nix', ['copy', '--to', `file://${d}?secret-key=${join(dir, 'sk')}`, topOut!, depOut], {
        env: nix.env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      return d;
    };
    cache = copyTo('cache');
    tampered = copyTo('tampered');
    // An xz file that still decompresses, but to a NAR with other contents.
    const narinfo = readdirSync(tampered).find((f) => f.startsWith(topOut!.slice(11, 43)))!;
    const url = /^URL: (.*)$/m.exec(readFileSync(join(tampered, narinfo), 'utf8'))![1]!;
    const nar = nix.dump(topOut!);
    const i = nar.indexOf('dep top');
    const forged = Buffer.concat([nar.subarray(0, i), Buffer.from('DEP'), nar.subarray(i + 3)]);
    const file = join(tampered, url);
    writeFileSync(file, execFileSync('xz', ['-c'], { input: forged }));
    // The file's own hash and size in the narinfo (unsigned fields) are made to match.
    const fileHash = execFileSync('nix-hash', ['--type', 'sha256', '--flat', '--base32', file], {
      encoding: 'utf8',
    }).trim();
    const text = readFileSync(join(tampered, narinfo), 'utf8')
      .replace(/^FileHash: .*$/m, `FileHash: sha256:${fileHash}`)
      .replace(/^FileSize: .*$/m, `FileSize: ${statSync(file).size}`);
    writeFileSync(join(tampered, narinfo), text);
  });
  after(() => {
    if (dir) removeDir(dir);
  });

  /** A fresh tix store holding the `.drv` closure; returns its --store flag. */
  function freshStore(): string[] {
    const root = join(dir, `tix${k++}`);
    const store = openTixStore(root);
    copyDrvClosure(nix, store, [topDrv]);
    void store.close();
    return ['--store', `local?root=${join(root, 'tix')}`];
  }

  const tix = (args: string[]) => runCli(args, { cwd: dir });
  const opts = (uri: string, key = TEST_PUBLIC) => [
    '--option',
    'substituters',
    `file://${uri}`,
    '--option',
    'trusted-public-keys',
    key,
  ];

  it('fetches the output from a Nix-made cache and builds nothing', async () => {
    const store = freshStore();
    const r = await tix([...store, ...opts(cache), 'build', '--no-out-link', topDrv]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${topOut}\n`);
    // As nix-build: what will be fetched, then the fetch.
    assert.match(r.stderr, /^this path will be fetched \(0\.00 MiB download, 0\.00 MiB unpacked\):\n/);
    assert.ok(
      r.stderr.endsWith(`  ${topOut}\ncopying path '${topOut}' from 'file://${cache}'...\n`),
      r.stderr,
    );
    const s = openTixStore(store[1]!.slice('local?root='.length).replace(/\/tix$/, ''));
    assert.deepEqual(await collect(s.narFromPath(topOut)), nix.dump(topOut));
    assert.equal(s.isValidPathSync(depOut), false, 'the input is neither built nor fetched');
    await s.close();
  });

  it('tix store realise fetches too', async () => {
    const r = await tix([...freshStore(), ...opts(cache), 'store', 'realise', topDrv]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${topOut}\n`);
    assert.match(r.stderr, /^copying path '.*-hook-top' from 'file:\/\/.*'\.\.\.$/m);
    assert.doesNotMatch(r.stderr, /building/);
  });

  it('ignores a cache signed by an untrusted key and builds', async () => {
    const r = await tix([...freshStore(), ...opts(cache, OTHER_PUBLIC), 'build', '--no-out-link', topDrv]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /^warning: cannot substitute '.*-hook-top' from '.*': it lacks a valid signature/m,
    );
    assert.match(r.stderr, /^building '.*-hook-top\.drv'\.\.\.$/m);
    assert.doesNotMatch(r.stderr, /copying path/);
  });

  it('fails naming the reason when the cache is tampered with, and --fallback builds', async () => {
    const store = freshStore();
    const r = await tix([...store, ...opts(tampered), 'build', '--no-out-link', topDrv]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^error: some substitutes for the outputs of derivation '${topDrv}' failed: hash mismatch importing path [^\\n]*\\n +specified: [^\\n]*\\n +got: [^\\n]*; try '--fallback' to build derivation from source$`,
        'm',
      ),
    );
    assert.doesNotMatch(r.stderr, /^building/m);
    const f = await tix([...store, ...opts(tampered), 'build', '--no-out-link', '--fallback', topDrv]);
    assert.equal(f.code, 0, f.stderr);
    assert.equal(f.stdout, `${topOut}\n`);
    assert.match(f.stderr, /^building '.*-hook-top\.drv'\.\.\.$/m);
    // The input was fetched from the cache (its entry is intact), not built.
    assert.match(f.stderr, /^copying path '.*-hook-dep' from/m);
    assert.doesNotMatch(f.stderr, /^building '.*-hook-dep\.drv'/m);
  });
});
