import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WireReader } from '../formats/wire.js';
import { STDERR } from '../store/worker-protocol.js';
import { TunnelLogger, type WorkerOutput } from './worker-logger.js';

/** An output that records each write (tryWrite: taken at once unless `full`). */
function recorder(opts: { sync: boolean; full?: () => boolean; closed?: () => boolean }) {
  const writes: { how: 'write' | 'tryWrite'; bytes: Buffer }[] = [];
  const io: WorkerOutput = {
    write: async (chunks) => {
      if (opts.closed?.()) throw new Error('gone');
      writes.push({ how: 'write', bytes: Buffer.concat(chunks) });
    },
  };
  if (opts.sync)
    io.tryWrite = (chunks) => {
      if (opts.closed?.()) throw new Error('gone');
      if (opts.full?.()) return false;
      writes.push({ how: 'tryWrite', bytes: Buffer.concat(chunks) });
      return true;
    };
  return { io, writes };
}

async function tags(bytes: Buffer): Promise<number[]> {
  const r = new WireReader([bytes]);
  const out: number[] = [];
  while (!(await r.atEnd())) out.push(await r.u64());
  return out;
}

test('flushNow writes what was sent in one write, without waiting, when the output takes it', async () => {
  const { io, writes } = recorder({ sync: true });
  const logger = new TunnelLogger(io, 34);
  logger.hold();
  logger.startWork();
  logger.stopWork();
  logger.send([Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0)]);
  assert.equal(logger.flushNow(), undefined);
  assert.equal(writes.length, 1);
  assert.equal(writes[0]!.how, 'tryWrite');
  assert.deepEqual(await tags(writes[0]!.bytes), [STDERR.LAST, 1]);
  // Nothing was left scheduled for the end of the turn.
  await new Promise((r) => setImmediate(r));
  assert.equal(writes.length, 1);
});

test('held messages wait for the flush; after release they go out at the end of the turn', async () => {
  const { io, writes } = recorder({ sync: true });
  const logger = new TunnelLogger(io, 34);
  logger.hold();
  logger.startWork();
  logger.log(0, 'held');
  await new Promise((r) => setImmediate(r));
  assert.equal(writes.length, 0);
  logger.release();
  await new Promise((r) => setImmediate(r));
  assert.equal(writes.length, 1);
  assert.equal(writes[0]!.how, 'write');
});

test('flushNow falls back to an awaited write when the output is full or has a write pending', async () => {
  let full = true;
  const { io, writes } = recorder({ sync: true, full: () => full });
  const logger = new TunnelLogger(io, 34);
  logger.startWork();
  logger.stopWork();
  const p = logger.flushNow();
  assert.ok(p instanceof Promise);
  // A second flush while the first write is still queued keeps the order.
  full = false;
  logger.send([Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0)]);
  const q = logger.flushNow();
  assert.ok(q instanceof Promise);
  await p;
  await q;
  assert.deepEqual(
    writes.map((w) => w.how),
    ['write', 'write'],
  );
  assert.deepEqual(await tags(Buffer.concat(writes.map((w) => w.bytes))), [STDERR.LAST, 2]);
  // Once nothing is pending, the next flush is immediate again.
  logger.send([Uint8Array.of(3, 0, 0, 0, 0, 0, 0, 0)]);
  assert.equal(logger.flushNow(), undefined);
  assert.equal(writes.at(-1)!.how, 'tryWrite');
});

test('flushNow rejects once the client is gone, and so does every later flush', async () => {
  const { io } = recorder({ sync: true, closed: () => true });
  const logger = new TunnelLogger(io, 34);
  logger.startWork();
  logger.stopWork();
  await assert.rejects(logger.flushNow()!, /gone/);
  logger.send([Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0)]);
  await assert.rejects(logger.flush(), /gone/);
});

test('an output without tryWrite is flushed by awaited writes', async () => {
  const { io, writes } = recorder({ sync: false });
  const logger = new TunnelLogger(io, 34);
  logger.startWork();
  logger.stopWork();
  const p = logger.flushNow();
  assert.ok(p instanceof Promise);
  await p;
  assert.deepEqual(
    writes.map((w) => w.how),
    ['write'],
  );
});
