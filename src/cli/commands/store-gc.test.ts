import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, startTestDaemon } from '../../server/worker-test-support.js';
import { openStore } from '../../store/open.js';
import { parseByteCount } from '../gc-format.js';
import { isolatedEnv, noNix, runCli, runNix } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-gc-'));
const root = join(tmp, 'root');
const store = ['--store', `local?root=${root}`];
after(() => rmSync(tmp, { recursive: true, force: true }));

const add = async (name: string, text: string) => {
  writeFileSync(join(tmp, name), text);
  const r = await runCli([...store, 'store', 'add', name], { cwd: tmp });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
};

describe('tix store gc / delete / verify', () => {
  let live = '';
  let dead = '';
  before(async () => {
    live = await add('live.txt', 'keep me\n');
    dead = await add('dead.txt', 'delete me\n');
    mkdirSync(join(root, 'nix/var/tix/gcroots'), { recursive: true });
    symlinkSync(live, join(root, 'nix/var/tix/gcroots/my-root'));
  });

  it('lists live and dead paths', async () => {
    const l = await runCli([...store, 'store', 'gc', '--print-live'], { cwd: tmp });
    assert.equal(l.code, 0, l.stderr);
    assert.ok(l.stdout.split('\n').includes(live));
    assert.ok(!l.stdout.includes(dead));
    const d = await runCli([...store, 'store', 'gc', '--print-dead'], { cwd: tmp });
    assert.ok(d.stdout.split('\n').includes(dead));
    assert.ok(!d.stdout.includes(live));
    const roots = await runCli([...store, 'store', 'gc', '--print-roots'], { cwd: tmp });
    assert.ok(
      roots.stdout.includes(`${join(root, 'nix/var/tix/gcroots/my-root')} -> ${live}\n`),
      roots.stdout,
    );
  });

  it('refuses to delete a live path, printing the summary first as Nix does', async () => {
    const r = await runCli([...store, 'store', 'delete', live], { cwd: tmp });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '0 store paths deleted, 0.00 MiB freed\n');
    assert.match(
      r.stderr,
      /^finding garbage collector roots...\nerror: .*'\/nix\/store\/.*-live\.txt'.*alive/,
    );
  });

  it('collects garbage and reports it', async () => {
    const r = await runCli([...store, 'store', 'gc'], { cwd: tmp });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^1 store paths deleted, \d+\.\d\d MiB freed\n$/);
    // nix-store --gc's progress lines, in its order, with its note (.links is empty here).
    assert.equal(
      r.stderr,
      `finding garbage collector roots...\ndeleting garbage...\ndeleting '${dead}'\ndeleting unused links...\nnote: currently hard linking saves -0.00 MiB\n`,
    );
    const info = await runCli([...store, 'path-info', dead], { cwd: tmp });
    assert.equal(info.code, 1);
    assert.equal((await runCli([...store, 'path-info', live], { cwd: tmp })).stdout, `${live}\n`);
  });

  it('deletes a path once its root is gone', async () => {
    unlinkSync(join(root, 'nix/var/tix/gcroots/my-root'));
    const r = await runCli([...store, 'store', 'delete', live], { cwd: tmp });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^1 store paths deleted, /);
  });

  it('verifies contents and reports a modified path', async () => {
    const p = await add('v.txt', 'original\n');
    const ok = await runCli([...store, 'store', 'verify', '--check-contents'], { cwd: tmp });
    assert.equal(ok.code, 0, ok.stderr);
    const real = join(root, p);
    chmodSync(real, 0o644);
    writeFileSync(real, 'tampered\n');
    const bad = await runCli([...store, 'store', 'verify', '--check-contents'], { cwd: tmp });
    assert.equal(bad.code, 1);
    assert.ok(bad.stderr.includes(p), bad.stderr);
  });

  it("through a tix daemon: the daemon's progress lines, once, and none with --quiet", async () => {
    const dstore = await openStore(`local?root=${join(tmp, 'droot')}`);
    const d = await startTestDaemon({ store: dstore });
    // bin/tix in a child process (asynchronously: the daemon answers from this one).
    const tix = (args: string[]) =>
      new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
        execFile(
          process.execPath,
          [join(REPO_ROOT, 'bin/tix'), '--store', `unix://${d.socket}`, ...args],
          { cwd: tmp, env: isolatedEnv(tmp) },
          (err, stdout, stderr) =>
            err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve({ stdout, stderr }),
        ),
      );
    try {
      writeFileSync(join(tmp, 'd1.txt'), 'one\n');
      writeFileSync(join(tmp, 'd2.txt'), 'two\n');
      const p1 = (await tix(['store', 'add', 'd1.txt'])).stdout.trim();
      const r = await tix(['store', 'gc']);
      assert.equal(r.stdout, '1 store paths deleted, 0.00 MiB freed\n');
      assert.equal(
        r.stderr,
        `finding garbage collector roots...\ndeleting garbage...\ndeleting '${p1}'\ndeleting unused links...\nnote: currently hard linking saves -0.00 MiB\n`,
      );
      await tix(['store', 'add', 'd2.txt']);
      const q = await tix(['--quiet', 'store', 'gc']);
      assert.deepEqual([q.stdout, q.stderr], ['1 store paths deleted, 0.00 MiB freed\n', '']);
    } finally {
      await d.close();
      await dstore.close();
    }
  });

  it('deletes a named path that is not valid, and counts it, as nix-store --delete does', async () => {
    const gone = '/nix/store/00000000000000000000000000000000-never-added';
    const r = await runCli([...store, 'store', 'delete', gone], { cwd: tmp });
    assert.deepEqual([r.code, r.stdout], [0, '1 store paths deleted, 0.00 MiB freed\n']);
    assert.match(r.stderr, new RegExp(`^finding garbage collector roots...\\ndeleting '${gone}'\\n`));
    if (!noNix) {
      const n = runNix(tmp, 'nix-store', ['--delete', gone], { root: 'nix-delete' });
      assert.deepEqual([n.status, n.stdout.toString(), n.stderr], [0, r.stdout, r.stderr]);
    }
  });

  it('parses --max-freed sizes with K/M/G/T suffixes', () => {
    assert.equal(parseByteCount('--max-freed', '10'), 10);
    assert.equal(parseByteCount('--max-freed', '2K'), 2048);
    assert.equal(parseByteCount('--max-freed', '1G'), 1024 ** 3);
    assert.equal(parseByteCount('--max-freed', '-5'), 0);
    assert.throws(() => parseByteCount('--max-freed', '1X'), /requires an integer argument/);
  });
});
