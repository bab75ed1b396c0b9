// `tix eval` and `tix instantiate --eval` against a chroot store: read-only evaluation computes the
// paths it would add without making them valid (reading one back fails as in nix-instantiate
// --eval), --read-write-mode adds them, and store paths are read from the chroot's tree.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCliOnStore } from '../run-cli.test-util.js';

const dir = mkdtempSync(join(tmpdir(), 'tix-eval-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const readBack = 'builtins.readFile (builtins.toFile "tix-eval-store" "written")';

test('read-only evaluation does not add paths; --read-write-mode does', async () => {
  const ro = await runCliOnStore(dir, 'a', ['eval', '-E', readBack]);
  assert.equal(ro.code, 1);
  assert.match(ro.stderr, /^error: path '\/nix\/store\/[0-9a-z]{32}-tix-eval-store' is not valid/);
  const also = await runCliOnStore(dir, 'a', ['instantiate', '--eval-only', '-E', readBack]);
  assert.equal(also.code, 1, also.stderr);
  const rw = await runCliOnStore(dir, 'a', ['instantiate', '--eval', '--read-write-mode', '-E', readBack]);
  assert.equal(rw.stderr, '');
  assert.equal(rw.stdout, '"written"\n');
  // Now valid in that store, so plain read-only evaluation reads it from the chroot's tree.
  const again = await runCliOnStore(dir, 'a', ['eval', '-E', readBack]);
  assert.equal(again.stdout, '"written"\n', again.stderr);
  const other = await runCliOnStore(dir, 'b', ['eval', '-E', readBack]);
  assert.equal(other.code, 1, 'another store does not have it');
});
