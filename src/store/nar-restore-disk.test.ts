import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { diskNarSink } from './nar-restore-disk.js';

const dir = mkdtempSync(join(tmpdir(), 'tix-nar-restore-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const openFds = () => readdirSync('/proc/self/fd').length;

test('a file written in small and large chunks (some on the thread pool) is restored byte for byte', async () => {
  const sizes = [100, 300 << 10, 1 << 20, 5, 2 << 20, 256 << 10, 1 << 20, 1 << 20, 1 << 20, 77];
  const chunks = sizes.map((n) => randomBytes(n));
  const fds = openFds();
  const sink = diskNarSink(join(dir, 'tree'));
  await sink.directory('');
  const w = await sink.regular(
    'big',
    true,
    chunks.reduce((s, c) => s + c.length, 0),
  );
  let waited = 0;
  for (const c of chunks) {
    const r = w.write(c);
    if (r instanceof Promise) {
      waited++;
      await r;
    }
  }
  await w.close();
  sink.finish();
  assert.ok(waited > 0, 'with many large chunks in flight, write() makes the parser wait');
  const file = join(dir, 'tree', 'big');
  assert.ok(readFileSync(file).equals(Buffer.concat(chunks)));
  const st = statSync(file);
  assert.equal(st.mode & 0o777, 0o555);
  assert.equal(st.mtimeMs, 1000);
  assert.equal(statSync(join(dir, 'tree')).mode & 0o777, 0o555);
  assert.equal(openFds(), fds, 'the file is closed');
});

/** A sink at `name` with file `f` and two 1 MiB writes of it in flight on the thread pool. */
async function twoWritesInFlight(name: string, size: number) {
  const sink = diskNarSink(join(dir, name));
  await sink.directory('');
  const w = await sink.regular('f', false, size);
  void w.write(new Uint8Array(1 << 20));
  void w.write(new Uint8Array(1 << 20));
  return { sink, w };
}

/** Waits (up to 0.5 s) for the open descriptors to be `fds` again, and asserts they are. */
async function fdsBackTo(fds: number): Promise<void> {
  for (let i = 0; i < 50 && openFds() !== fds; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(openFds(), fds);
}

test('abort() while large writes are in flight closes the file once they are done', async () => {
  const fds = openFds();
  const { sink, w } = await twoWritesInFlight('aborted', 4 << 20);
  sink.abort();
  await w.close(); // after abort: nothing left to do
  await fdsBackTo(fds);
});

test('abort() while close() waits for its writes: close() then leaves the descriptor alone', async () => {
  const fds = openFds();
  const { sink, w } = await twoWritesInFlight('abort-in-close', 2 << 20);
  const closing = w.close();
  sink.abort();
  await closing; // no EBADF, no chmod of whatever took the descriptor's number
  await fdsBackTo(fds);
  assert.equal(statSync(join(dir, 'abort-in-close', 'f')).mode & 0o777, 0o644);
});

const root = process.getuid?.() === 0;
test('a file larger than the disk fails its close with ENOSPC, and no descriptor stays open', {
  skip: root ? false : 'needs root for a private tmpfs (unshare -m)',
}, () => {
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  const script = `
      import { readdirSync } from 'node:fs';
      import { diskNarSink } from ${JSON.stringify(new URL('./nar-restore-disk.js', import.meta.url).href)};
      const fds = () => readdirSync('/proc/self/fd').length;
      const before = fds();
      const sink = diskNarSink(${JSON.stringify(join(mnt, 'out'))});
      const w = sink.regular('', false, 8 << 20);
      let code;
      try {
        for (let i = 0; i < 8; i++) await w.write(new Uint8Array(1 << 20).fill(i + 1));
        await w.close();
      } catch (e) {
        code = e.code;
      }
      sink.abort();
      for (let i = 0; i < 50 && fds() !== before; i++) await new Promise((r) => setTimeout(r, 10));
      console.log(JSON.stringify({ code, leaked: fds() - before }));
    `;
  const r = spawnSync(
    'unshare',
    [
      '-m',
      'sh',
      '-c',
      `mount -t tmpfs -o size=1m tix-full '${mnt}' && exec node --input-type=module -e "$0"`,
      script,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { code: 'ENOSPC', leaked: 0 });
});
