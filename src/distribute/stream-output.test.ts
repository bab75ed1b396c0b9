import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { StreamOutput } from './stream-output.js';

/** A Writable that keeps what it gets; with `hold`, it completes no write until release(). */
function sink(highWaterMark: number, hold = false) {
  const got: Buffer[] = [];
  const waiting: (() => void)[] = [];
  const stream = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, cb) {
      got.push(chunk);
      if (hold) waiting.push(() => cb());
      else cb();
    },
  });
  const release = () => {
    hold = false;
    for (const f of waiting.splice(0)) f();
  };
  return { stream, got, release };
}

test('tryWrite hands one chunk over at once', () => {
  const { stream, got } = sink(1024);
  const out = new StreamOutput(stream);
  assert.equal(out.tryWrite([Uint8Array.of(1, 2, 3)]), true);
  assert.deepEqual(Buffer.concat(got), Buffer.from([1, 2, 3]));
});

test('tryWrite writes nothing while the stream waits for a drain, or for several chunks', async () => {
  const { stream, got, release } = sink(4, true);
  const out = new StreamOutput(stream);
  assert.equal(out.tryWrite([new Uint8Array(8)]), true); // fills the buffer past its limit
  assert.equal(out.tryWrite([Uint8Array.of(9)]), false);
  assert.equal(got.length, 1);
  const drained = new Promise((r) => stream.once('drain', r));
  release();
  await drained;
  assert.equal(out.tryWrite([Uint8Array.of(1), Uint8Array.of(2)]), false);
  assert.equal(out.tryWrite([Uint8Array.of(9)]), true);
  assert.deepEqual(got.at(-1), Buffer.from([9]));
});

test('tryWrite waits for a stream that is still to come, and throws once it is closed', async () => {
  const { stream } = sink(1024);
  let attach!: (s: Writable) => void;
  const out = new StreamOutput(new Promise<Writable>((r) => (attach = r)));
  assert.equal(out.tryWrite([Uint8Array.of(1)]), false);
  attach(stream);
  await new Promise((r) => setImmediate(r));
  assert.equal(out.tryWrite([Uint8Array.of(1)]), true);
  await out.end();
  assert.throws(() => out.tryWrite([Uint8Array.of(1)]), /closed/);
});

test('write calls onWritten for each chunk only once the stream has taken it', async () => {
  const { stream, release } = sink(1 << 20, true);
  const out = new StreamOutput(stream);
  const a = Uint8Array.of(1);
  const b = Uint8Array.of(2, 3);
  const written: Uint8Array[] = [];
  await out.write([a, new Uint8Array(0), b], (c) => written.push(c));
  assert.deepEqual(written, [], 'nothing is written while the stream holds its writes');
  release();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(written, [a, b]);
});
