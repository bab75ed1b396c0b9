// Temp roots held by a scope (a daemon connection) end with it; roots held by the process or by
// another scope that is still running stay, in the set and in the temproots file the collector reads.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { acquireTempRoots, readTempRoots, releaseTempRoots, withTempRootScope } from './temp-roots.js';

const dir = mkdtempSync(join(tmpdir(), 'tix-temproots-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const A = '/nix/store/00000000000000000000000000000000-a';
const B = '/nix/store/11111111111111111111111111111111-b';
const C = '/nix/store/22222222222222222222222222222222-c';

test('a scope drops the temp roots only it holds when it ends', async () => {
  const roots = acquireTempRoots(dir);
  try {
    const onFile = () => (readTempRoots(dir).get(String(process.pid)) ?? []).sort();
    await roots.add(B); // the process's own: kept
    let release!: () => void;
    const second = withTempRootScope(async () => {
      await roots.add(C);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    await withTempRootScope(async () => {
      await roots.add(A);
      roots.addSync(B);
      await roots.add(C);
      assert.deepEqual(onFile(), [A, B, C]);
    });
    // A was the first scope's alone; C is still held by the second one.
    assert.deepEqual([...roots.paths].sort(), [B, C]);
    assert.deepEqual(onFile(), [B, C]);
    release();
    await second;
    assert.deepEqual([...roots.paths], [B]);
    assert.deepEqual(onFile(), [B]);
  } finally {
    releaseTempRoots(roots);
  }
});

test('a root added after its scope ended (work left running) stays for the process', async () => {
  const roots = acquireTempRoots(dir);
  try {
    let later!: Promise<void>;
    await withTempRootScope(async () => {
      later = new Promise((resolve) => setTimeout(resolve, 20)).then(() => roots.add(A));
    });
    await later;
    assert.deepEqual([...roots.paths], [A]);
  } finally {
    releaseTempRoots(roots);
  }
});
