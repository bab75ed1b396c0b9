// `tix build -v` says why each build went where it did: the machine chosen with its load, then
// every other machine and why it was passed over. Builders here are exec:// commands (tix-store
// --serve --write on a store of their own), so no sshd is needed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isolatedEnv } from '../run-cli.test-util.js';

const repo = new URL('../../../', import.meta.url).pathname.replace(/\/dist\/$/, '/');
const tmp = mkdtempSync(join(tmpdir(), 'tix-placement-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A builder: a script running tix-store --serve --write on its own store. */
function builder(name: string): string {
  const script = join(tmp, `${name}.sh`);
  writeFileSync(
    script,
    `#!/bin/sh\nexec env TIX_STORE='local?root=${join(tmp, name)}' TIX_CONF_DIR='${join(tmp, 'builder-etc')}' ${process.execPath} ${join(repo, 'bin/tix-store')} --serve --write\n`,
  );
  chmodSync(script, 0o755);
  return `exec://${script}`;
}

test('tix build -v explains the placement of each build', () => {
  const slow = builder('slow');
  const fast = builder('fast');
  writeFileSync(
    join(tmp, 'one.nix'),
    'derivation { name = "placed"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo hi > $out" ]; }\n',
  );
  const builders = `${slow} x86_64-linux - 1 1; ${fast} x86_64-linux - 1 4; ${builder('arm')} aarch64-linux - 1 9`;
  const run = (extra: string[]) =>
    spawnSync(
      process.execPath,
      [
        join(repo, 'bin/tix'),
        '--store',
        `local?root=${join(tmp, 'client')}`,
        'build',
        '--no-out-link',
        '--max-jobs',
        '0',
        '--builders',
        builders,
        ...extra,
        join(tmp, 'one.nix'),
      ],
      { cwd: tmp, env: isolatedEnv(tmp), encoding: 'utf8' },
    );
  const r = run(['-v']);
  assert.equal(r.status, 0, r.stderr);
  const drv = /building '(\/nix\/store\/[a-z0-9]{32}-placed\.drv)' on/.exec(r.stderr)?.[1];
  assert.ok(drv, r.stderr);
  assert.ok(
    r.stderr.includes(
      [
        `placing '${drv}' on '${fast}' (0/1 jobs, speed factor 4)`,
        `  ${slow}: slower (0/1 jobs, speed factor 1)`,
        '  local: local builds disabled (max-jobs = 0)',
        `  ${builder('arm')}: system 'x86_64-linux' not in [aarch64-linux]`,
        `building '${drv}' on '${fast}'`,
      ].join('\n'),
    ),
    r.stderr,
  );
  // Without -v there is no explanation.
  rmSync(join(tmp, 'client'), { recursive: true, force: true });
  const quiet = run([]);
  assert.equal(quiet.status, 0, quiet.stderr);
  assert.doesNotMatch(quiet.stderr, /placing '/);
  assert.match(quiet.stderr, /building '.*-placed\.drv' on 'exec:/);
});
