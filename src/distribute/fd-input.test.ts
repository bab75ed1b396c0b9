import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FD_CHUNK, FdInput } from './fd-input.js';

const dir = mkdtempSync(join(tmpdir(), 'tix-fd-input-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A FIFO whose writer runs `script` (sh, with the FIFO as stdout); returns its read end (FdInput closes it). */
function fifoFrom(script: string): { fd: number; writer: ChildProcess; exited: Promise<void> } {
  const fifo = join(dir, `fifo-${n++}`);
  execFileSync('mkfifo', [fifo]);
  const writer = spawn('sh', ['-c', `exec > '${fifo}'; ${script}`], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => writer.once('exit', () => resolve()));
  // Blocks until the writer has opened its end.
  return { fd: openSync(fifo, 'r'), writer, exited };
}

async function pullAll(input: FdInput): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for (let c = await input.pull(); c !== null; c = await input.pull()) chunks.push(c);
  return chunks;
}

test('reads every byte of a pipe in order, in chunks of at most 1 MiB, then null', async () => {
  const src = join(dir, 'src.bin');
  const data = randomBytes(5 * FD_CHUNK + 12345);
  writeFileSync(src, data);
  const { fd, exited } = fifoFrom(`cat '${src}'`);
  const input = new FdInput(fd);
  const chunks = await pullAll(input);
  assert.ok(chunks.every((c) => c.byteLength > 0 && c.byteLength <= FD_CHUNK));
  assert.ok(Buffer.concat(chunks).equals(data));
  assert.equal(input.ended, true);
  assert.equal(await input.pull(), null);
  await exited;
});

test('a short read is copied out, so a small message does not hold a whole read buffer', async () => {
  const { fd, writer, exited } = fifoFrom('printf hello; exec sleep 5');
  const input = new FdInput(fd);
  const c = await input.pull();
  assert.equal(Buffer.from(c!).toString(), 'hello');
  assert.equal(c!.buffer.byteLength, 5);
  assert.equal(input.ended, false);
  writer.kill();
  assert.equal(await input.pull(), null);
  await exited;
});

test('end of input is seen with no pull outstanding, and listeners added later run at once', async () => {
  const { fd, exited } = fifoFrom('true');
  const input = new FdInput(fd);
  await new Promise<void>((resolve) => input.onEnd(resolve));
  assert.equal(input.ended, true);
  let late = false;
  input.onEnd(() => {
    late = true;
  });
  assert.equal(late, true);
  await exited;
});

test('stops reading ahead while 4 MiB wait to be pulled, so the writer is held back', async () => {
  const total = 32 * FD_CHUNK;
  const { fd, exited } = fifoFrom(`head -c ${total} /dev/zero`);
  const input = new FdInput(fd);
  let done = false;
  void exited.then(() => {
    done = true;
  });
  await new Promise((r) => setTimeout(r, 300));
  // At most the read-ahead limit plus one read and a pipe's worth can have left the writer.
  assert.equal(done, false, 'the writer finished although nothing was pulled');
  const chunks = await pullAll(input);
  assert.equal(
    chunks.reduce((s, c) => s + c.byteLength, 0),
    total,
  );
  await exited;
});

test('a process reading its stdin this way exits at once, though the writer keeps the pipe open', async () => {
  const script = `
    import { FdInput } from ${JSON.stringify(new URL('./fd-input.js', import.meta.url).href)};
    const input = new FdInput(0);
    const c = await input.pull();
    process.exit(c.length);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  const t0 = Date.now();
  child.stdin!.write('abc'); // and never ended
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill();
      resolve(null);
    }, 10_000);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  assert.equal(code, 3, `the child did not exit by itself (${Date.now() - t0} ms)`);
  child.stdin!.destroy();
});
