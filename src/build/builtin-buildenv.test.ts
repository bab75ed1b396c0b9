// builtin:buildenv on its own: the links it makes from store paths kept elsewhere on disk, and
// derivations it refuses (what Nix 2.8's nix-env would never send). The comparison with Nix 2.8's
// user environments is in server/worker-nix.test.ts.
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { builtinBuildenv } from './builtin-buildenv.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-buildenv-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const real = join(tmp, 'store');
const ctx = (warnings: string[] = []) => ({
  realPath: (p: string) => (p.startsWith('/nix/store/') ? join(real, p.slice('/nix/store/'.length)) : p),
  outPath: '/nix/store/00000000000000000000000000000000-user-environment',
  warn: (m: string) => warnings.push(m),
});
const A = '/nix/store/11111111111111111111111111111111-a';
const B = '/nix/store/22222222222222222222222222222222-b';

test('links packages kept elsewhere on disk by their store paths, lower priority winning', () => {
  for (const [p, text] of [
    [A, 'a'],
    [B, 'b'],
  ] as const) {
    mkdirSync(join(real, p.slice(11), 'bin'), { recursive: true });
    writeFileSync(join(real, p.slice(11), 'bin', 'tool'), text);
  }
  const out = join(tmp, 'out1');
  const warnings: string[] = [];
  builtinBuildenv(
    new Map([
      [
        'derivations',
        `true 5 1 ${A} true 3 1 ${B} false 1 1 /nix/store/33333333333333333333333333333333-off`,
      ],
      ['manifest', '/nix/store/44444444444444444444444444444444-env-manifest.nix'],
    ]),
    out,
    ctx(warnings),
  );
  // b (priority 3) linked bin whole; a's bin made it a directory of both, b's tool kept.
  assert.ok(lstatSync(join(out, 'bin')).isDirectory());
  assert.equal(readlinkSync(join(out, 'bin', 'tool')), `${B}/bin/tool`);
  assert.equal(
    readlinkSync(join(out, 'manifest.nix')),
    '/nix/store/44444444444444444444444444444444-env-manifest.nix',
  );
  assert.deepEqual(warnings, []);
});

test('refuses a derivation without its attributes or with a malformed package list', () => {
  const run = (env: [string, string][]) => () => builtinBuildenv(new Map(env), join(tmp, 'bad'), ctx());
  assert.throws(run([['manifest', '/m']]), /^BuildError: attribute 'derivations' missing$/);
  assert.throws(
    run([
      ['derivations', `true x 1 ${A}`],
      ['manifest', '/m'],
    ]),
    /bad priority 'x'/,
  );
  assert.throws(
    run([
      ['derivations', `true 5 2 ${A}`],
      ['manifest', '/m'],
    ]),
    /lists too few outputs/,
  );
  assert.throws(run([['derivations', `true 5 1 ${A}`]]), /attribute 'manifest' missing/);
});
