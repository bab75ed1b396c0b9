// `tix store verify --check-contents --repair`: a damaged path is restored from a substituter that
// holds a copy with the recorded NAR hash; without one the damage is reported and exit is 1.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { runCliOnStore } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-verify-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const tix = (args: string[], config = '') => runCliOnStore(tmp, 'root', args, config);

it('repairs a modified path from a substituter, and says when it cannot', async () => {
  writeFileSync(join(tmp, 'data.txt'), 'the good contents\n');
  const added = await tix(['store', 'add', join(tmp, 'data.txt')]);
  assert.equal(added.code, 0, added.stderr);
  const path = added.stdout.trim();
  const copied = await tix(['copy', '--to', `file://${join(tmp, 'cache')}`, path]);
  assert.equal(copied.code, 0, copied.stderr);
  const real = join(tmp, 'root', path);
  chmodSync(real, 0o644);
  writeFileSync(real, 'damaged\n');
  const noSource = await tix(['store', 'verify', '--check-contents', '--repair']);
  assert.equal(noSource.code, 1);
  assert.match(
    noSource.stderr,
    new RegExp(
      `^reading the Nix store...\\nchecking path existence...\\nchecking link hashes...\\nchecking store hashes...\\npath '${path}' was modified! expected hash 'sha256:[0-9a-z]{52}', got 'sha256:[0-9a-z]{52}'\\nerror: cannot repair path '${path}'\\nwarning: not all store errors were fixed\\n$`,
    ),
  );
  const r = await tix(
    ['store', 'verify', '--check-contents', '--repair'],
    `substituters = file://${join(tmp, 'cache')}`,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(real, 'utf8'), 'the good contents\n');
  assert.equal((await tix(['store', 'verify', '--check-contents'])).code, 0);
});
