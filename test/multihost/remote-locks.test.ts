// A remote build holds its outputs' locks in the local store, as a local build does (and as Nix's
// goal does around its build hook): while another process holds them, `tix build` waits instead of
// building the same derivation a second time; once they are free it builds.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lockFiles } from '../../src/store/locks.js';
import { Harness, type Host } from '../harness/hosts.js';
import { multiHostSkipReason } from '../harness/nix-client.js';
import { Client, TIX_BIN } from './support.js';

const skip = multiHostSkipReason();

describe('remote builds and output locks', { skip }, () => {
  let harness: Harness;
  let host: Host;
  let client: Client;
  before(async () => {
    harness = Harness.create();
    host = await harness.startHost({ flavour: 'nix', name: 'locks-nix' });
    client = new Client(harness);
  });
  after(async () => {
    client.close();
    await harness.close();
  });

  test('a remote build waits while another process holds its output lock', async () => {
    const [drv] = client.addDerivations([{ name: 'locked-out', script: 'echo built > $out' }]);
    const out = client.withStore((s) => s.readDerivation(drv!).outputs.get('out')!.path);
    const lock = await lockFiles([`${join(client.dir, 'tix', out)}.lock`]);
    const args = ['build', '--store', client.storeUri, '--no-out-link', '--max-jobs', '0'];
    const p = spawn(process.execPath, [TIX_BIN, ...args, '--builders', host.machinesLine(), drv!], {
      env: client.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((r) => p.on('close', r));
    try {
      const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r('waiting'), 1500))]);
      assert.equal(early, 'waiting', `tix build did not wait for the lock: ${stderr}`);
      // Not built on the builder either: the remote build has not started.
      assert.ok(!existsSync(host.realPath(out)), 'the builder built it while the lock was held');
      assert.ok(!client.withStore((s) => s.isValidPathSync(out)));
    } finally {
      lock?.release();
    }
    assert.equal(await exited, 0, stderr);
    assert.equal(stdout.trim(), out);
    assert.equal(readFileSync(join(client.dir, 'tix', out), 'utf8'), 'built\n');
    assert.ok(existsSync(host.realPath(out)), 'built on the builder once the lock was free');
  });
});
