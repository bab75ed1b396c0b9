// The builder environment and sandbox view, compared live with Nix 2.8: the same `.drv` files dump
// their environment, build-dir files and sandbox view with both, and the dumps must be identical
// apart from the documented differences (see DIFFERENCES).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { LocalStore } from '../store/local.js';
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

/**
 * Known differences, applied to Nix's dump before comparing:
 * - 2.8 points NIX_ATTRS_{JSON,SH}_FILE at its host-side temp dir ("/tmp/nix-build-<name>.drv-0"),
 *   which does not exist inside its sandbox; tix uses the build dir as the builder sees it (/build).
 * - bwrap's /dev has a `core` symlink (to /proc/kcore) that Nix's /dev lacks.
 */
function normaliseNix(s: string): string {
  return s.replace(/\/tmp\/nix-build-[^/'"]+\.drv-[0-9]+\//g, '/build/');
}
function normaliseTix(s: string): string {
  return s.replace(/^core\n/m, '');
}

const DUMP =
  'export; echo ==; PATH=/bin:/usr/bin; for f in .attr-*; do echo $f; cat $f; echo; done; echo ==; id; hostname; umask; pwd; ' +
  'cat /etc/passwd /etc/group /etc/hosts; ls -a /; ls -a /dev /tmp /build; ls -ld /tmp /build /nix/store | cut -c1-10';

const EXPR = `
let sys = builtins.currentSystem; in {
  plain = derivation {
    name = "envdump"; system = sys; builder = "/bin/sh"; outputs = [ "out" "dev" ];
    args = [ "-c" "(${DUMP.replaceAll('"', '\\"')}) > $out 2>&1; echo > $dev" ];
    big = "hello big"; passAsFile = [ "big" ]; foo = "bar baz"; num = 3; flag = true; nul = null; lst = [ "a" "b" ];
    withPlaceholder = "\${placeholder "dev"}/lib";
  };
  structured = derivation {
    name = "sadump"; system = sys; builder = "/bin/bash"; __structuredAttrs = true;
    args = [ "-c" "cd $NIX_BUILD_TOP; . ./.attrs.sh; export PATH=/bin:/usr/bin; mkdir \\\${outputs[out]}; export > \\\${outputs[out]}/env; cp .attrs.json .attrs.sh \\\${outputs[out]}/" ];
    count = 3; flag = true; no = false; nul = null; list = [ "a" "b" ]; nested = { x = 1; s = "q'uote"; }; fl = 1.5; str = "it's";
  };
}`;

let dir: string;
let nix: NixOracle;
let store: LocalStore;

before(() => {
  if (skip) return;
  dir = tempDir('envnix');
  nix = new NixOracle(dir);
  store = openTixStore(dir);
});

after(async () => {
  if (skip) return;
  await store.close();
  removeDir(dir);
});

test('builder environment and sandbox view equal Nix 2.8 (modulo documented differences)', {
  skip,
}, async () => {
  const drvs = nix.instantiate(EXPR, ['plain', 'structured']);
  const nixOuts = nix.build(drvs);
  copyDrvClosure(nix, store, drvs);
  await buildPaths(
    store,
    drvs.map((d) => ({ kind: 'built' as const, drvPath: d, outputs: ['*'] })),
    { local: { buildCores: 2, sandboxPaths: ['/bin', '/lib', '/lib64', '/usr'] } },
  );
  const plainOut = nixOuts.find((o) => o.endsWith('-envdump'))!;
  const tixPlain = readFileSync(store.toRealPath(plainOut), 'utf8');
  assert.equal(normaliseTix(tixPlain), normaliseNix(readFileSync(nix.realPath(plainOut), 'utf8')));
  assert.match(tixPlain, /uid=1000\(nixbld\) gid=100\(nixbld\)/);
  assert.match(tixPlain, /withPlaceholder='\/nix\/store\/[a-z0-9]{32}-envdump-dev\/lib'/);

  const saOut = nixOuts.find((o) => o.endsWith('-sadump'))!;
  for (const f of ['env', '.attrs.json', '.attrs.sh']) {
    const t = readFileSync(join(store.toRealPath(saOut), f), 'utf8');
    const n = readFileSync(join(nix.realPath(saOut), f), 'utf8');
    assert.equal(t, normaliseNix(n), `structured attrs file ${f}`);
  }
});
