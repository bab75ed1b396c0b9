import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Derivation, printDerivation } from '../../formats/derivation.js';
import { fillOutputPaths } from '../../formats/derivation-hash.js';
import { noNix, runCli, runNix } from '../run-cli.test-util.js';
import { outLinkName } from './build.js';

const BUSYBOX = '/usr/bin/busybox';
const skip = !existsSync(BUSYBOX)
  ? 'no static busybox to use as a builder'
  : spawnSync('bwrap', ['--version']).status !== 0
    ? 'bubblewrap (bwrap) is not installed'
    : false;

const tmp = mkdtempSync(join(tmpdir(), 'tix-build-'));
const root = join(tmp, 'root');
const store = ['--store', `local?root=${root}`];
after(() => rmSync(tmp, { recursive: true, force: true }));

/** hello.drv of the test below, as a Nix file in `tmp` (where ./bb is the busybox source). */
const DRV_NIX = `derivation { name = "hello"; system = "x86_64-linux"; builder = "\${./bb}/busybox"; outputs = ["dev" "out"]; args = ["sh" "-c" "echo building hello; echo hi > $out; echo $out > $dev"]; }`;

/** A derivation as Nix's `derivation` builtin makes it (env holds builder, name, system, outputs). */
function makeDrv(name: string, bb: string, script: string, outputs = ['out']): string {
  const env = new Map<string, string>([
    ['builder', `${bb}/busybox`],
    ['name', name],
    ...outputs.map((o) => [o, ''] as [string, string]),
    ['system', 'x86_64-linux'],
  ]);
  if (outputs.length > 1) env.set('outputs', outputs.join(' '));
  const drv: Derivation = {
    name,
    outputs: new Map(outputs.map((o) => [o, { path: '', hashAlgo: '', hash: '' }])),
    inputDrvs: new Map(),
    inputSrcs: [bb],
    system: 'x86_64-linux',
    builder: `${bb}/busybox`,
    args: ['sh', '-c', script],
    env: new Map([...env].sort(([a], [b]) => (a < b ? -1 : 1))),
  };
  const filled = fillOutputPaths(drv, { inputHash: () => assert.fail('no inputs'), storeDir: '/nix/store' });
  return printDerivation(filled);
}

describe('outLinkName', () => {
  it('names links as nix-build does', () => {
    assert.equal(outLinkName('/x/result', 0, 'out'), '/x/result');
    assert.equal(outLinkName('/x/result', 0, 'dev'), '/x/result-dev');
    assert.equal(outLinkName('/x/result', 1, 'out'), '/x/result-2');
    assert.equal(outLinkName('/x/result', 2, 'dev'), '/x/result-3-dev');
  });
});

describe('tix build / store realise / log', { skip }, () => {
  let bb = '';
  let drvPath = '';
  let drvText = '';
  before(async () => {
    mkdirSync(join(tmp, 'bb'));
    copyFileSync(BUSYBOX, join(tmp, 'bb/busybox'));
    const r = await runCli([...store, 'store', 'add', 'bb'], { cwd: tmp });
    assert.equal(r.code, 0, r.stderr);
    bb = r.stdout.trim();
    drvText = makeDrv('hello', bb, 'echo building hello; echo hi > $out; echo $out > $dev', ['dev', 'out']);
    const a = await runCli([...store, 'derivation', 'add'], { cwd: tmp, stdin: drvText });
    assert.equal(a.code, 0, a.stderr);
    drvPath = a.stdout.trim();
  });

  it('builds, prints outputs in name order and makes result links registered as GC roots', async () => {
    const r = await runCli([...store, 'build', drvPath], { cwd: tmp });
    assert.equal(r.code, 0, r.stderr);
    const [dev, out] = r.stdout.trim().split('\n');
    assert.match(dev!, /^\/nix\/store\/[a-z0-9]{32}-hello-dev$/);
    assert.match(out!, /^\/nix\/store\/[a-z0-9]{32}-hello$/);
    // In a chroot-style store, result links point at the physical copy so they can be followed.
    assert.equal(readlinkSync(join(tmp, 'result')), join(root, out!));
    assert.equal(readlinkSync(join(tmp, 'result-dev')), join(root, dev!));
    assert.equal(readFileSync(join(tmp, 'result'), 'utf8'), 'hi\n');
    assert.match(r.stderr, /building '\/nix\/store\/.*-hello\.drv'\.\.\.\nbuilding hello\n/);
    const auto = readdirSync(join(root, 'nix/var/tix/gcroots/auto')).map((n) =>
      readlinkSync(join(root, 'nix/var/tix/gcroots/auto', n)),
    );
    assert.deepEqual(auto.sort(), [join(tmp, 'result'), join(tmp, 'result-dev')]);

    const again = await runCli([...store, 'build', `${drvPath}!out`, '-o', 'other'], { cwd: tmp });
    assert.equal(again.stdout, `${out}\n`);
    assert.ok(!again.stderr.includes('building'), 'already valid: nothing is built');
    assert.ok(lstatSync(join(tmp, 'other')).isSymbolicLink());

    const real = await runCli([...store, 'store', 'realise', drvPath], { cwd: tmp });
    assert.equal(
      real.stdout,
      [dev, out]
        .sort()
        .map((p) => `${p}\n`)
        .join(''),
    );

    assert.equal(
      real.stderr,
      "warning: you did not specify '--add-root'; the result might be removed by the garbage collector\n",
    );
    // --add-root, as nix-store -r: per argument ROOT, ROOT-2, …, -OUTPUT beside out; the links printed.
    const rooted = await runCli(
      [...store, 'store', 'realise', '--add-root', 'rr', '--indirect', drvPath, bb],
      { cwd: tmp },
    );
    assert.equal(rooted.code, 0, rooted.stderr);
    assert.equal(
      rooted.stdout,
      [join(tmp, 'rr'), join(tmp, 'rr-dev'), join(tmp, 'rr-2')].map((p) => `${p}\n`).join(''),
    );
    assert.equal(readlinkSync(join(tmp, 'rr-dev')), join(root, dev!));
    assert.equal(readlinkSync(join(tmp, 'rr-2')), join(root, bb));
    const auto2 = readdirSync(join(root, 'nix/var/tix/gcroots/auto')).map((n) =>
      readlinkSync(join(root, 'nix/var/tix/gcroots/auto', n)),
    );
    for (const l of ['rr', 'rr-dev', 'rr-2']) assert.ok(auto2.includes(join(tmp, l)), l);

    const log = await runCli([...store, 'log', './result'], { cwd: tmp });
    assert.equal(log.stdout, 'building hello\n');
    // Kept where Nix keeps logs; one kept where tix did before is still found.
    const base = drvPath.slice('/nix/store/'.length);
    const logFile = join(root, 'nix/var/log/nix/drvs', base.slice(0, 2), base.slice(2));
    assert.equal(readFileSync(logFile, 'utf8'), 'building hello\n');
    const oldFile = join(root, 'nix/var/tix/log/drvs', base.slice(0, 2), base.slice(2));
    mkdirSync(dirname(oldFile), { recursive: true });
    renameSync(logFile, oldFile);
    assert.equal((await runCli([...store, 'log', './result'], { cwd: tmp })).stdout, 'building hello\n');
    const info = await runCli([...store, 'path-info', '--json', 'result'], { cwd: tmp });
    const j = JSON.parse(info.stdout)[0];
    assert.equal(j.deriver, drvPath);
    assert.equal(j.ultimate, true);
  });

  it('exits 100 on a failing builder with one error per failure, and --no-out-link makes no link', async () => {
    const bad = makeDrv('fails', bb, 'echo about to fail; exit 3');
    const a = await runCli([...store, 'derivation', 'add'], { cwd: tmp, stdin: bad });
    const r = await runCli([...store, 'build', '--no-out-link', a.stdout.trim()], { cwd: tmp });
    assert.equal(r.code, 100);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /about to fail/);
    assert.match(r.stderr, /^error: .*fails\.drv.*$/m);
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
    assert.ok(!existsSync(join(tmp, 'result-2')));
  });

  it('honours --timeout from the command line', async () => {
    const slow = makeDrv('slow', bb, 'sleep 30');
    const a = await runCli([...store, 'derivation', 'add'], { cwd: tmp, stdin: slow });
    const t0 = Date.now();
    const r = await runCli([...store, 'build', '--no-out-link', '--timeout', '1', a.stdout.trim()], {
      cwd: tmp,
    });
    assert.ok(Date.now() - t0 < 20000, 'killed long before it would finish');
    assert.equal(r.code, 101, r.stderr);
  });

  it('rejects a bad setting given as a flag', async () => {
    const r = await runCli([...store, 'build', '--max-jobs', 'many', drvPath], { cwd: tmp });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "error: configuration setting 'max-jobs' should be 'auto' or an integer in '--max-jobs'\n",
    );
  });

  it('gives the same .drv path, output and NAR hash as Nix 2.8', { skip: noNix }, async () => {
    writeFileSync(join(tmp, 'drv.nix'), DRV_NIX);
    const inst = runNix(tmp, 'nix-instantiate', ['drv.nix']);
    // nix-instantiate prints "<drv>!<output>" per output for multi-output derivations.
    const instPaths = new Set(
      inst.stdout
        .toString()
        .trim()
        .split('\n')
        .map((l) => l.replace(/!.*$/, '')),
    );
    assert.deepEqual([...instPaths], [drvPath], inst.stderr);
    const nb = runNix(tmp, 'nix-build', ['--no-out-link', 'drv.nix']);
    assert.equal(nb.status, 0, nb.stderr);
    const nixOut = nb.stdout.toString().trim().split('\n').pop()!;
    const n = JSON.parse(runNix(tmp, 'nix', ['path-info', '--json', nixOut]).stdout.toString())[0];
    const t = JSON.parse((await runCli([...store, 'path-info', '--json', nixOut], { cwd: tmp })).stdout)[0];
    for (const k of ['path', 'narHash', 'narSize', 'references', 'deriver', 'ultimate'])
      assert.deepEqual(t[k], n[k], k);
  });

  it("builds `'<name>' -A attr` from the search path, as `nix-build '<nixpkgs>' -A hello` does", async () => {
    const sp = join(tmp, 'sp');
    mkdirSync(join(sp, 'pkgs'), { recursive: true });
    writeFileSync(join(tmp, 'drv.nix'), DRV_NIX);
    writeFileSync(join(sp, 'pkgs', 'default.nix'), `{ hello = import ${join(tmp, 'drv.nix')}; }\n`);
    const env = { PATH: process.env.PATH, HOME: tmp, TIX_USER_CONF_FILES: '', NIX_PATH: `pkgs=${sp}/pkgs` };
    const viaNixPath = await runCli([...store, 'build', '--no-out-link', '<pkgs>', '-A', 'hello'], {
      cwd: tmp,
      env,
    });
    assert.equal(viaNixPath.code, 0, viaNixPath.stderr);
    const viaI = await runCli([...store, 'build', '--no-out-link', '-I', sp, '<pkgs>', '-A', 'hello.out'], {
      cwd: tmp,
    });
    assert.equal(viaI.code, 0, viaI.stderr);
    const direct = await runCli([...store, 'build', '--no-out-link', 'drv.nix'], { cwd: tmp });
    const directOut = await runCli([...store, 'build', '--no-out-link', 'drv.nix', '-A', 'out'], {
      cwd: tmp,
    });
    assert.match(direct.stdout, /^\/nix\/store\/[a-z0-9]{32}-hello-dev\n$/);
    assert.equal(viaNixPath.stdout, direct.stdout);
    assert.equal(viaI.stdout, directOut.stdout);
  });
});
