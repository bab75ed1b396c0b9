import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { collectBytes, narTreeSink, parseNar } from '../formats/nar.js';
import { dumpPath, dumpPathSync } from './nar-dump-disk.js';
import { diskNarSink } from './nar-restore-disk.js';
import { hasNix, NO_NIX, removeDir, tempDir } from './test-util.js';

describe('NAR dump and restore on disk', () => {
  const dir = tempDir();
  after(() => removeDir(dir));
  const t = join(dir, 'tree');
  mkdirSync(join(t, 'd', 'e'), { recursive: true });
  mkdirSync(join(t, 'empty'));
  writeFileSync(join(t, 'a'), 'a\n');
  writeFileSync(join(t, 'é'), 'e\n');
  writeFileSync(join(t, 'd', 'big'), Buffer.alloc(3 * 1024 * 1024 + 5, 1));
  writeFileSync(join(t, 'x'), '#!\n');
  chmodSync(join(t, 'x'), 0o755);
  symlinkSync('d/big', join(t, 'l'));
  // A name that is not UTF-8 (0xff) must survive as raw bytes.
  writeFileSync(Buffer.concat([Buffer.from(`${t}/raw-`), Buffer.from([0xff])]), 'raw');

  it('matches nix-store --dump byte for byte', { skip: !hasNix && NO_NIX }, () => {
    const ours = Buffer.concat([...dumpPathSync(t)]);
    const theirs = spawnSync('nix-store', ['--dump', t], { maxBuffer: 1 << 28 }).stdout;
    assert.ok(ours.equals(theirs));
  });

  it('async stream equals the sync one; chunks are fresh buffers', async () => {
    const chunks: Uint8Array[] = [];
    for await (const c of dumpPath(t)) chunks.push(c);
    const again = Buffer.concat([...dumpPathSync(t)]);
    assert.ok(Buffer.concat(chunks).equals(again));
    assert.equal(new Set(chunks.map((c) => c.buffer)).size, chunks.length);
  });

  it('restores a parsed NAR to an identical, canonical tree', async () => {
    const withoutRaw = join(dir, 'plain');
    mkdirSync(withoutRaw);
    writeFileSync(join(withoutRaw, 'f'), 'f');
    symlinkSync('f', join(withoutRaw, 'g'));
    const nar = Buffer.concat([...dumpPathSync(t.replace('tree', 'plain'))]);
    const out = join(dir, 'restored');
    const sink = diskNarSink(out, { fsync: true });
    await parseNar([nar], sink);
    sink.finish();
    assert.ok(Buffer.concat([...dumpPathSync(out)]).equals(nar));
    const tree = narTreeSink();
    await parseNar([nar], tree);
    assert.equal(tree.root().type, 'directory');
    assert.ok((await collectBytes(dumpPath(out))).length === nar.length);
  });
});
