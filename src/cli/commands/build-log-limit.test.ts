// `max-build-log-size`: a builder that writes more is killed, with Nix 2.8's message and exit code
// (compared with nix-build when Nix is installed); under the limit the build succeeds.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { noNix, runCli } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-log-limit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const expr = (lines: number) =>
  `derivation { name = "loud-${lines}"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "i=0; while [ $i -lt ${lines} ]; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done; echo > $out" ]; }`;
const tix = (lines: number) =>
  runCli(
    [
      '--store',
      `local?root=${join(tmp, 'root')}`,
      'build',
      '--no-out-link',
      '--option',
      'max-build-log-size',
      '1000',
      '-E',
      expr(lines),
    ],
    { cwd: tmp, env: { HOME: tmp, TIX_CONF_DIR: join(tmp, 'etc'), TIX_USER_CONF_FILES: '' } },
  );
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
    mkdirSync(join(tmp, 'nix-etc'), { recursive: true });
    writeFileSync(
      join(tmp, 'nix-etc', 'nix.conf'),
      'build-users-group =\nsubstituters =\nsandbox-paths = /bin/sh=/bin/busybox\n',
    );
    const r = spawnSync(
      'nix-build',
      ['--no-out-link', '--option', 'max-build-log-size', '1000', '-E', expr(2000)],
      {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          HOME: tmp,
          NIX_CONF_DIR: join(tmp, 'nix-etc'),
          NIX_REMOTE: `local?root=${join(tmp, 'nix-root')}`,
        },
      },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, killed);
  });
});
