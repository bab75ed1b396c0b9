import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { removeTreeSync } from './fs-util.js';
import { removeDir, tempDir } from './test-util.js';

const tmp = tempDir('tix-fs-util-');
after(() => removeDir(tmp));

test('removeTreeSync removes trees, files and symlinks without following them', () => {
  mkdirSync(join(tmp, 'keep', 'inner'), { recursive: true });
  writeFileSync(join(tmp, 'keep', 'inner', 'f'), 'kept');
  mkdirSync(join(tmp, 'tree', 'a', 'b'), { recursive: true });
  writeFileSync(join(tmp, 'tree', 'a', 'b', 'f'), 'x');
  symlinkSync(join(tmp, 'keep'), join(tmp, 'tree', 'link-to-keep'));
  writeFileSync(Buffer.from(`${join(tmp, 'tree')}/\xff-not-utf8`, 'latin1'), 'x');
  symlinkSync(join(tmp, 'keep'), join(tmp, 'top-link'));
  mkdirSync(join(tmp, 'read-only', 'sub'), { recursive: true });
  writeFileSync(join(tmp, 'read-only', 'sub', 'f'), 'x');
  chmodSync(join(tmp, 'read-only', 'sub'), 0o555);
  chmodSync(join(tmp, 'read-only'), 0o555);
  writeFileSync(join(tmp, 'file'), 'x');
  for (const p of ['tree', 'top-link', 'read-only', 'file', 'never-there']) removeTreeSync(join(tmp, p));
  for (const p of ['tree', 'top-link', 'read-only', 'file']) assert.ok(!existsSync(join(tmp, p)), p);
  assert.equal(readFileSync(join(tmp, 'keep', 'inner', 'f'), 'utf8'), 'kept');
});
