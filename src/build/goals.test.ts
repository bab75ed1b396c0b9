// Builds a DAG of derivations with tix and with Nix 2.8 from the same `.drv` files and compares
// output paths, NAR bytes and references.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { collectBytes } from '../formats/nar.js';
import type { LocalStore } from '../store/local.js';
import { BuildStatus } from '../store/store.js';
import { BuildError } from './errors.js';
import { buildPaths } from './goals.js';
import {
  copyDrvClosure,
  NixOracle,
  nixSkipReason,
  openTixStore,
  removeDir,
  sandboxSkipReason,
  tempDir,
} from './test-support.js';

const skip = sandboxSkipReason() ?? nixSkipReason();

const EXPR = `
let
  sys = builtins.currentSystem;
  mk = name: script: attrs: derivation ({ inherit name; system = sys; builder = "/bin/sh"; args = [ "-c" ("PATH=/bin; " + script) ]; } // attrs);
  greeting = builtins.toFile "greeting.txt" "hello from a source\\n";
  fod = mk "fixed-hello" "echo hello > $out" { outputHashMode = "flat"; outputHashAlgo = "sha256"; outputHash = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"; };
  fodr = mk "fixed-tree" "mkdir $out; echo x > $out/x; ln -s x $out/y" { outputHashMode = "recursive"; outputHashAlgo = "sha256"; outputHash = "sha256-OJcATH2zxITC+VAFfJXc0lJbYCxWERKdcjh0FY0S0kU="; };
  dep = mk "dep" "mkdir -p $out/bin $out/share; echo '#!/bin/sh' > $out/bin/run; chmod +x $out/bin/run; cat $src > $out/share/g; ln -s ../share/g $out/link; echo $out > $out/self" { src = greeting; };
  multi = mk "multi" "mkdir $out $dev; echo $out > $dev/points-to-out; echo lib > $out/lib; echo \${dep} > $out/dep" { outputs = [ "out" "dev" ]; };
  top = mk "top" "mkdir $out; cat $fod > $out/fod; cat $dev/points-to-out > $out/m; echo $fodr $src > $out/refs; printf '%s' \\"$passed\\" > $out/p; cat $passedPath >> $out/p" {
    inherit fod fodr; dev = multi.dev; src = greeting; passed = "multi\\nline"; passAsFile = [ "passed" ];
  };
in { inherit top dep multi fod fodr; }
`;

let dir: string;
let nix: NixOracle;
let store: LocalStore;

before(() => {
  if (skip) return;
  dir = tempDir('goals');
  nix = new NixOracle(dir);
  store = openTixStore(dir);
});

after(async () => {
  if (skip) return;
  await store.close();
  removeDir(dir);
});

test('a DAG builds to the same paths and NAR bytes as Nix 2.8', { skip }, async () => {
  const [topDrv] = nix.instantiate(EXPR, ['top']);
  const nixOut = nix.build([topDrv!]);
  copyDrvClosure(nix, store, [topDrv!]);
  const started: string[] = [];
  const res = await buildPaths(store, [{ kind: 'built', drvPath: topDrv!, outputs: ['*'] }], {
    maxJobs: 2,
    local: { buildCores: 2 },
    onStart: (j) => started.push(j.drvPath),
  });
  assert.equal(started.length, 5);
  assert.equal(started.at(-1), topDrv);
  assert.deepEqual([...res.outputs.get(topDrv!)!.values()], nixOut);
  for (const [drvPath, r] of res.results) {
    assert.equal(r.status, BuildStatus.Built, `${drvPath}: ${r.errorMsg}`);
    for (const out of r.builtOutputs.values()) {
      const tixNar = await collectBytes(store.narFromPath(out));
      assert.ok(Buffer.from(tixNar).equals(nix.dump(out)), `NAR of ${out} differs from Nix's`);
      const info = store.queryPathInfoSync(out)!;
      assert.deepEqual(
        info.references,
        nix.query(['--query', '--references', out]).sort(),
        `references of ${out}`,
      );
      const [nixInfo] = JSON.parse(
        execFileSync('nix', ['path-info', '--json', out], { env: nix.env, encoding: 'utf8' }),
      );
      assert.equal(info.deriver, nixInfo.deriver);
      assert.equal(info.ultimate, nixInfo.ultimate);
      assert.equal(info.ca, nixInfo.ca, `ca of ${out}`);
      assert.equal(info.narSize, nixInfo.narSize);
      assert.equal(`sha256-${Buffer.from(info.narHash.slice(7), 'hex').toString('base64')}`, nixInfo.narHash);
    }
  }
  // A second request finds everything valid.
  const again = await buildPaths(store, [{ kind: 'built', drvPath: topDrv!, outputs: ['out'] }]);
  assert.equal(again.results.get(topDrv!)!.status, BuildStatus.AlreadyValid);
});

test('failure: exit code 100, dependents DependencyFailed, keep-going builds the rest', {
  skip,
}, async () => {
  const expr = `
    let mk = name: script: attrs: derivation ({ inherit name; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" script ]; } // attrs);
        bad = mk "bad" "echo oops; exit 3" {};
        good = mk "good" "echo fine > $out" {};
        needsBad = mk "needs-bad" "echo > $out" { inherit bad; };
    in { inherit bad good needsBad; }`;
  const [needsBad, good] = nix.instantiate(expr, ['needsBad', 'good']);
  copyDrvClosure(nix, store, [needsBad!, good!]);
  const badDrv = nix.query(['--query', '--references', needsBad!]).find((p) => p.endsWith('-bad.drv'))!;
  const paths = [
    { kind: 'built' as const, drvPath: needsBad!, outputs: ['*'] },
    { kind: 'built' as const, drvPath: good!, outputs: ['*'] },
  ];
  const e = await buildPaths(store, paths, { keepGoing: true }).catch((x: unknown) => x);
  assert.ok(e instanceof BuildError);
  assert.equal(e.exitCode, 100);
  const r = e.results!;
  assert.equal(r.get(badDrv)!.status, BuildStatus.PermanentFailure);
  assert.equal(
    r.get(badDrv)!.errorMsg,
    `builder for '${badDrv}' failed with exit code 3;\nlast 1 log lines:\n> oops\nFor full logs, run 'tix log ${badDrv}'.`,
  );
  assert.equal(r.get(needsBad!)!.status, BuildStatus.DependencyFailed);
  assert.equal(r.get(needsBad!)!.errorMsg, `1 dependencies of derivation '${needsBad}' failed to build`);
  assert.equal(r.get(good!)!.status, BuildStatus.Built);
  assert.equal(e.message, `build of '${needsBad}' failed`);
});
