// Differential test: our dumpNar over a real directory tree against Nix 2.8's `nix-store --dump`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  collectBytes,
  dumpNar,
  type NarSource,
  type NarSourceEntry,
  narSourceFromTree,
  narTreeSink,
  parseNar,
} from './nar.js';

async function* readFileChunks(path: string): AsyncGenerator<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(1 << 20);
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** A NarSource over a real directory (what the local store will provide). */
function fsSource(root: string): NarSource {
  return {
    async stat(relPath): Promise<NarSourceEntry> {
      const p = relPath === '' ? root : join(root, relPath);
      const st = await lstat(p);
      if (st.isSymbolicLink()) return { type: 'symlink', target: await readlink(p) };
      if (st.isDirectory()) return { type: 'directory', entries: () => readdir(p) };
      if (st.isFile()) {
        return {
          type: 'regular',
          executable: (st.mode & 0o100) !== 0,
          size: st.size,
          contents: () => readFileChunks(p),
        };
      }
      throw new Error(`unsupported file type at '${p}'`);
    },
  };
}

const nixStore = spawnSync('nix-store', ['--version'], { encoding: 'utf8' });
const haveNix = nixStore.status === 0 && /2\.8\.\d/.test(nixStore.stdout);
const skip = haveNix ? false : 'nix-store 2.8 is not installed';

const tmp = mkdtempSync(join(tmpdir(), 'tix-nar-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function nixDump(path: string): Buffer {
  mkdirSync(join(tmp, 'etc'), { recursive: true });
  writeFileSync(
    join(tmp, 'etc', 'nix.conf'),
    'sandbox = false\nbuild-users-group =\nsubstituters =\nexperimental-features = nix-command\n',
  );
  const r = spawnSync('nix-store', ['--dump', path], {
    env: { ...process.env, NIX_CONF_DIR: join(tmp, 'etc'), NIX_REMOTE: `local?root=${join(tmp, 'nixroot')}` },
    maxBuffer: 1 << 30,
  });
  assert.equal(r.status, 0, r.stderr?.toString());
  return r.stdout;
}

function build(root: string): void {
  mkdirSync(join(root, 'sub', 'deeper', 'deepest'), { recursive: true });
  mkdirSync(join(root, 'empty'));
  mkdirSync(join(root, 'sub', 'empty-too'));
  writeFileSync(join(root, 'a.txt'), 'A\n');
  writeFileSync(join(root, 'zero'), '');
  writeFileSync(join(root, 'run'), '#!/bin/sh\necho hi\n');
  chmodSync(join(root, 'run'), 0o755);
  writeFileSync(join(root, 'exec-empty'), '');
  chmodSync(join(root, 'exec-empty'), 0o700);
  writeFileSync(join(root, 'group-exec-only'), 'g');
  chmodSync(join(root, 'group-exec-only'), 0o654);
  for (const n of [
    '\u00e9',
    'e\u0301',
    '日本語',
    '\u{1f600}',
    'Z',
    '_',
    'a-b',
    'a.b',
    '~x',
    'sp ace',
    '\u{ff61}',
  ]) {
    writeFileSync(join(root, 'sub', n), n);
  }
  const big = Buffer.alloc(5 * (1 << 20) + 13);
  for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
  writeFileSync(join(root, 'sub', 'deeper', 'big.bin'), big);
  writeFileSync(join(root, 'sub', 'deeper', 'deepest', 'seven'), '1234567');
  symlinkSync('a.txt', join(root, 'link'));
  symlinkSync('/nix/store/does-not-exist', join(root, 'dangling'));
  symlinkSync('../../a.txt', join(root, 'sub', 'deeper', 'up'));
  symlinkSync('日本語', join(root, 'sub', 'unicode-link'));
}

describe('dumpNar against nix-store --dump (Nix 2.8)', { skip }, () => {
  it('a mixed tree: files, executables, symlinks, empty dirs, nesting, non-ASCII, 0-byte and large files', async () => {
    const root = join(tmp, 'tree');
    build(root);
    const ours = await collectBytes(dumpNar(fsSource(root)));
    const theirs = nixDump(root);
    assert.equal(ours.length, theirs.length);
    assert.ok(Buffer.from(ours).equals(theirs), 'NAR bytes differ');
    // Parsing Nix's NAR and dumping it again is the identity.
    const sink = narTreeSink();
    await parseNar([theirs], sink);
    const again = await collectBytes(dumpNar(narSourceFromTree(sink.root())));
    assert.ok(Buffer.from(again).equals(theirs), 'parse → dump changed the NAR');
  });

  it('a lone regular file, an executable and a symlink as the root', async () => {
    const f = join(tmp, 'lone');
    writeFileSync(f, 'Hello, Nix!\n');
    assert.ok(Buffer.from(await collectBytes(dumpNar(fsSource(f)))).equals(nixDump(f)));
    chmodSync(f, 0o555);
    assert.ok(Buffer.from(await collectBytes(dumpNar(fsSource(f)))).equals(nixDump(f)));
    const l = join(tmp, 'lone-link');
    symlinkSync('lone', l);
    assert.ok(Buffer.from(await collectBytes(dumpNar(fsSource(l)))).equals(nixDump(l)));
    const d = join(tmp, 'lone-dir');
    mkdirSync(d);
    assert.ok(Buffer.from(await collectBytes(dumpNar(fsSource(d)))).equals(nixDump(d)));
  });
});
