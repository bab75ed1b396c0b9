// `tix show-config` against `nix show-config` of Nix 2.8 on the same nix.conf: the same
// `name = value` lines for what the file sets, the same JSON values and aliases, and no setting
// that 2.8 does not know besides tix's own few.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from '../../build/test-support.js';
import { noNix, runCli, runNix } from '../run-cli.test-util.js';

const dir = tempDir('show-config');
after(() => rmSync(dir, { recursive: true, force: true }));

const SET: Record<string, string> = {
  'experimental-features': 'nix-command',
  'max-jobs': '3',
  cores: '5',
  sandbox: 'relaxed',
  builders: 'ssh://a x86_64-linux ; ssh://b',
  'builders-use-substitutes': 'true',
  substituters: 'http://a.example http://b.example',
  'trusted-public-keys': 'k1:AAAA k2:BBBB',
  'keep-going': 'true',
  'max-silent-time': '60',
  'min-free': '1000',
  'system-features': 'kvm big-parallel',
  'connect-timeout': '7',
  'log-lines': '25',
  'narinfo-cache-negative-ttl': '10',
};
const CONF = Object.entries(SET)
  .map(([k, v]) => `${k} = ${v}\n`)
  .join('');
/** Settings of tix that Nix 2.8 does not have (later Nix's, and tix's per-build limits). */
const TIX_ONLY = new Set(['auto-allocate-uids', 'build-memory-max', 'build-pids-max', 'fsync-store-paths']);

async function tix(args: string[]) {
  mkdirSync(join(dir, 'etc'), { recursive: true });
  writeFileSync(join(dir, 'etc', 'tix.conf'), CONF);
  const r = await runCli(['show-config', ...args], {
    cwd: dir,
    env: { HOME: dir, TIX_CONF_DIR: join(dir, 'etc'), TIX_USER_CONF_FILES: '', PATH: process.env.PATH },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout;
}

const lines = (text: string) =>
  new Map(
    text
      .trimEnd()
      .split('\n')
      .map((l) => l.split(' = ', 2) as [string, string]),
  );

test('tix show-config prints the settings in effect as nix show-config does', async (t) => {
  const out = await tix([]);
  const mine = lines(out);
  assert.deepEqual([...mine.keys()], [...mine.keys()].sort(), 'in name order');
  for (const [k, v] of Object.entries(SET)) {
    const printed = mine.get(k);
    assert.ok(printed !== undefined, k);
    if (k !== 'system-features') assert.equal(printed, v, k);
  }
  assert.equal(mine.get('system-features'), 'big-parallel kvm', 'a set is printed sorted');
  if (noNix) return t.skip(noNix);
  const nix = runNix(dir, 'nix', ['show-config'], { conf: CONF });
  assert.equal(nix.status, 0, nix.stderr);
  const theirs = lines(nix.stdout.toString());
  for (const k of mine.keys())
    if (!TIX_ONLY.has(k)) assert.ok(theirs.has(k), `Nix 2.8 has no setting '${k}'`);
  for (const k of Object.keys(SET)) assert.equal(mine.get(k), theirs.get(k), k);
});

test('tix show-config --json gives values, defaults and aliases as Nix 2.8 does', async (t) => {
  const mine = JSON.parse(await tix(['--json']));
  assert.equal(mine['max-jobs'].value, 3);
  assert.equal(mine['max-jobs'].defaultValue, 1);
  assert.equal(mine.sandbox.value, 'relaxed');
  assert.deepEqual(mine.substituters.value, ['http://a.example', 'http://b.example']);
  // 2^64 - 1 stays exact in the JSON text.
  assert.match(await tix(['--json']), /"max-free":\{[^}]*"value":18446744073709551615\}/);
  if (noNix) return t.skip(noNix);
  const nix = runNix(dir, 'nix', ['show-config', '--json'], { conf: CONF });
  assert.equal(nix.status, 0, nix.stderr);
  const theirs = JSON.parse(nix.stdout.toString());
  // 2.8 writes experimental features as the numbers of its enum ([3]); tix writes their names.
  assert.deepEqual(mine['experimental-features'].value, ['nix-command']);
  for (const k of Object.keys(SET).filter((n) => n !== 'experimental-features')) {
    assert.deepEqual(mine[k].value, theirs[k].value, `${k} value`);
    assert.deepEqual(mine[k].aliases, theirs[k].aliases, `${k} aliases`);
  }
  for (const k of ['max-jobs', 'keep-going', 'log-lines', 'min-free', 'connect-timeout'])
    assert.deepEqual(mine[k].defaultValue, theirs[k].defaultValue, `${k} default`);
});
