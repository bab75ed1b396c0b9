// `max-build-log-size`: a builder that writes more is killed, with Nix 2.8's message and exit code
// (compared with nix-build when Nix is installed); under the limit the build succeeds.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NIX_SANDBOX_CONF, noNix, runCliOnStore, runNix } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-log-limit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const expr = (lines: number) =>
  `derivation { name = "loud-${lines}"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "i=0; while [ $i -lt ${lines} ]; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done; echo > $out" ]; }`;
const tix = (lines: number) =>
  runCliOnStore(tmp, 'root', [
    'build',
    '--no-out-link',
    '--option',
    'max-build-log-size',
    '1000',
    '-E',
    expr(lines),
  ]);
const killed =
  /error: building of '\/nix\/store\/[a-z0-9]{32}-loud-2000\.drv!out' from \.drv file killed after writing more than 1000 bytes of log output\n/;

describe('max-build-log-size', () => {
  it('kills a builder that writes more, and lets one that writes less finish', async () => {
    const loud = await tix(2000);
    assert.equal(loud.code, 1, loud.stderr);
    assert.match(loud.stderr, killed);
    const quiet = await tix(10);
    assert.equal(quiet.code, 0, quiet.stderr);
  });

  it('says what Nix 2.8 says', { skip: noNix }, () => {
    const r = runNix(
      tmp,
      'nix-build',
      ['--no-out-link', '--option', 'max-build-log-size', '1000', '-E', expr(2000)],
      {
        conf: NIX_SANDBOX_CONF,
      },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, killed);
  });
});
