// `tix store ping` (nix store ping): a local store with tix's version, a binary cache with its URL
// as Nix 2.8 prints it, a daemon with the version from its handshake, an unreachable store exits 1.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startTestDaemon } from '../../server/worker-test-support.js';
import { MemoryStore } from '../../store/memory.js';
import { NIX_VERSION_STRING } from '../../store/version.js';
import { noNix, runCli, runNix } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-store-ping-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('tix store ping: local store, binary cache, daemon, unreachable', async () => {
  const local = `local?root=${join(tmp, 'root')}`;
  const l = await runCli(['--store', local, 'store', 'ping'], { cwd: tmp });
  // On stderr, as Nix 2.8 prints them.
  assert.deepEqual(
    [l.code, l.stderr, l.stdout],
    [0, `Store URL: ${local}\nVersion: ${NIX_VERSION_STRING}\n`, ''],
  );
  const cache = join(tmp, 'cache');
  mkdirSync(cache);
  writeFileSync(join(cache, 'nix-cache-info'), 'StoreDir: /nix/store\n');
  const c = await runCli(['--store', `file://${cache}`, 'store', 'ping'], { cwd: tmp });
  assert.deepEqual([c.code, c.stdout], [0, '']);
  assert.equal(c.stderr, `Store URL: file://${cache}\n`);
  if (!noNix) {
    const theirs = runNix(tmp, 'nix', ['store', 'ping', '--store', `file://${cache}`]);
    assert.deepEqual([theirs.status, theirs.stdout.toString(), theirs.stderr], [0, '', c.stderr]);
  }
  const d = await startTestDaemon({ store: new MemoryStore() });
  try {
    const r = await runCli(['--store', `unix://${d.socket}`, 'store', 'ping'], { cwd: tmp });
    assert.deepEqual(
      [r.code, r.stderr, r.stdout],
      [0, `Store URL: unix://${d.socket}\nVersion: ${NIX_VERSION_STRING}\n`, ''],
    );
  } finally {
    await d.close();
  }
  const gone = await runCli(['--store', `unix://${join(tmp, 'no-socket')}`, 'store', 'ping'], { cwd: tmp });
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^error: cannot connect to daemon at '.*no-socket'/);
});
