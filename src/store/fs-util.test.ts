import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
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

test('removeTreeSync outlasts a process that is still adding files to the tree for a moment', async () => {
  // As a killed build's processes may: a writer filling the tree for 300 ms, started first. A
  // single walk then meets entries it has not seen (ENOTEMPTY); the tree must still go, without
  // an error, once the writer stops.
  const dir = join(tmp, 'busy');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  for (let i = 0; i < 2000; i++) writeFileSync(join(dir, 'sub', `pre${i}`), '');
  const script = `const fs=require('fs');const end=Date.now()+300;let i=0;
    while(Date.now()<end){try{fs.writeFileSync(process.argv[1]+'/sub/w'+i++,'')}catch{process.exit(0)}}`;
  const writer = spawn(process.execPath, ['-e', script, dir], { stdio: 'ignore' });
  const exited = new Promise((resolve) => writer.on('exit', resolve));
  await new Promise((resolve) => setTimeout(resolve, 80));
  removeTreeSync(dir);
  assert.equal(existsSync(dir), false);
  await exited;
});
