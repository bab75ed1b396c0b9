import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MemoryEvalIO, resolveLinks } from './io-memory.js';

const dir = mkdtempSync(join(tmpdir(), 'tix-io-memory-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('links resolve as Nix resolves them, dangling ones included', () => {
  mkdirSync(join(dir, 'real'));
  symlinkSync(join(dir, 'real'), join(dir, 'abs'));
  symlinkSync('real/missing', join(dir, 'rel'));
  symlinkSync('/nix/store/00000000000000000000000000000000-tix-gone', join(dir, 'result'));
  symlinkSync('loop', join(dir, 'loop'));
  assert.equal(resolveLinks(`${dir}/abs/x/../y`), `${dir}/real/y`);
  assert.equal(resolveLinks(`${dir}/rel`), `${dir}/real/missing`);
  const io = new MemoryEvalIO();
  // A dangling link to the store resolves to the store path it names (builtins.storePath).
  assert.equal(io.realPath(`${dir}/result`), '/nix/store/00000000000000000000000000000000-tix-gone');
  assert.equal(io.realPath(`${dir}/abs`), `${dir}/real`);
  assert.throws(() => resolveLinks(`${dir}/loop`), /infinite symlink recursion/);
});
