// Auto-GC's decision rules (Nix's LocalStore::autoGC): off at min-free 0, at most once per check
// interval, only below min-free and max-free, and not again until free space dropped below 97 %
// of what the previous auto-GC left.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type AutoGcSettings, autoGc } from './auto-gc.js';
import { LocalStore } from './local.js';

const dir = mkdtempSync(join(tmpdir(), 'tix-auto-gc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('auto-GC runs when free space is low, frees max-free - free, then backs off', async () => {
  const store = new LocalStore({ root: join(dir, 's'), fsync: false, runtimeRoots: false });
  try {
    writeFileSync(join(dir, 'g'), 'garbage\n');
    const g = store.addPathToStoreSync(join(dir, 'g'), { name: 'g', method: 'flat' }).path;
    await store.close();
    const s2 = new LocalStore({ root: join(dir, 's'), fsync: false, runtimeRoots: false });
    let free = 100n;
    const logs: string[] = [];
    const settings: AutoGcSettings = {
      minFree: 1000n,
      maxFree: 5000n,
      checkInterval: 0,
      log: (m) => logs.push(m),
      freeSpace: () => free,
    };
    await autoGc(s2, { ...settings, minFree: 0n });
    assert.deepEqual(logs, [], 'min-free 0 = off');
    await autoGc(s2, settings);
    assert.equal(logs[0], 'running auto-GC to free 4900 bytes');
    // Then the collection's own lines, as nix-store --gc prints them.
    assert.deepEqual(logs.slice(1, 4), [
      'finding garbage collector roots...',
      'deleting garbage...',
      `deleting '${g}'`,
    ]);
    assert.equal(s2.isValidPathSync(g), false);
    // Free space after that GC is 100 (the hook): 98 is above 97 % of it, so no new GC.
    logs.length = 0;
    free = 98n;
    await autoGc(s2, settings);
    assert.deepEqual(logs, []);
    free = 90n;
    await autoGc(s2, settings);
    assert.equal(logs[0], 'running auto-GC to free 4910 bytes');
    logs.length = 0;
    free = 10n;
    await autoGc(s2, { ...settings, checkInterval: 3600 });
    assert.deepEqual(logs, [], 'checked less than an interval ago');
    await s2.close();
  } finally {
    await store.close();
  }
});
