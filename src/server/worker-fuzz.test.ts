// Fuzzing the daemon: mutated worker-protocol requests (flipped bytes, truncations, huge lengths,
// random opcodes) from many connections. The daemon must answer with errors or drop that
// connection, never crash, and a well-behaved client on its own connection must see correct
// answers throughout. 10,000 frames by default; TIX_SOAK=1 sends 100,000.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WireWriter } from '../formats/wire.js';
import { MemoryStore } from '../store/memory.js';
import { WorkerOp } from '../store/worker-protocol.js';
import { rawSession, startTestDaemon, unsignedPath } from './worker-test-support.js';

const FRAMES = process.env.TIX_SOAK === '1' ? 100_000 : 10_000;

/** A deterministic PRNG (xorshift32), so a failure can be replayed. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

async function templates(valid: string, nar: Uint8Array, narInfoPath: string): Promise<Uint8Array[]> {
  const w = () => new WireWriter();
  const framedNar = w().u64(nar.length).raw(nar).u64(0).toBytes();
  return [
    w().u64(WorkerOp.IsValidPath).string(valid).toBytes(),
    w().u64(WorkerOp.QueryValidPaths).strings([valid, narInfoPath]).u64(0).toBytes(),
    w().u64(WorkerOp.QueryPathInfo).string(valid).toBytes(),
    w().u64(WorkerOp.QueryReferrers).string(valid).toBytes(),
    w().u64(WorkerOp.NarFromPath).string(valid).toBytes(),
    w().u64(WorkerOp.AddTextToStore).string('fuzz.txt').string('text').strings([]).toBytes(),
    w()
      .u64(WorkerOp.AddToStore)
      .string('fuzz')
      .string('fixed:r:sha256')
      .strings([])
      .u64(0)
      .raw(framedNar)
      .toBytes(),
    w()
      .u64(WorkerOp.AddToStore)
      .string('fuzz')
      .string('text:sha256')
      .strings([valid])
      .u64(0)
      .u64(4)
      .raw(Buffer.from('abcd'))
      .u64(0)
      .toBytes(),
    w()
      .u64(WorkerOp.AddToStoreNar)
      .string(narInfoPath)
      .string('')
      .string('0'.repeat(64))
      .strings([])
      .u64(0)
      .u64(nar.length)
      .u64(0)
      .strings([])
      .string('')
      .u64(0)
      .u64(1)
      .raw(framedNar)
      .toBytes(),
    w()
      .u64(WorkerOp.AddMultipleToStore)
      .u64(0)
      .u64(1)
      .u64(16)
      .u64(1)
      .u64(narInfoPath.length)
      .raw(Buffer.from(narInfoPath))
      .u64(0)
      .toBytes(),
    w()
      .u64(WorkerOp.SetOptions)
      .u64(0)
      .u64(0)
      .u64(0)
      .u64(3)
      .u64(1)
      .u64(0)
      .u64(1)
      .u64(0)
      .u64(0)
      .u64(0)
      .u64(0)
      .u64(1)
      .stringMap(new Map([['x', 'y']]))
      .toBytes(),
    w()
      .u64(WorkerOp.QueryMissing)
      .strings([`${valid}!out`, valid])
      .toBytes(),
    w().u64(WorkerOp.BuildPathsWithResults).strings([valid]).u64(0).toBytes(),
    w().u64(WorkerOp.QueryDerivationOutputMap).string(valid).toBytes(),
    w().u64(WorkerOp.CollectGarbage).u64(1).strings([]).u64(0).u64(100).u64(0).u64(0).u64(0).toBytes(),
    w().u64(WorkerOp.AddSignatures).string(valid).strings(['k:sig']).toBytes(),
    w().u64(WorkerOp.QueryPathFromHashPart).string('abc').toBytes(),
    w()
      .u64(WorkerOp.BuildDerivation)
      .string(`${valid}.drv`)
      .u64(1)
      .string('out')
      .string(narInfoPath)
      .string('')
      .string('')
      .strings([])
      .string('x86_64-linux')
      .string('/bin/sh')
      .strings([])
      .stringMap(new Map())
      .u64(0)
      .toBytes(),
  ];
}

function mutate(t: Uint8Array, r: (n: number) => number): Uint8Array {
  const b = Buffer.from(t);
  switch (r(6)) {
    case 0: // flip a few bytes
      for (let i = 0, n = 1 + r(4); i < n; i++) b[r(b.length)] = r(256);
      return b;
    case 1: // truncate
      return b.subarray(0, r(b.length));
    case 2: {
      // a huge or odd u64 at an 8-aligned position (lengths, counts, flags)
      const at = 8 * r(Math.max(1, b.length >> 3));
      const v = [0xffffffffffffffffn, 1n << 40n, 0x7fffffffn, 63n, 65n][r(5)]!;
      if (at + 8 <= b.length) b.writeBigUInt64LE(v, at);
      return b;
    }
    case 3: // random opcode with a valid body of another op
      b.writeBigUInt64LE(BigInt(r(60)), 0);
      return b;
    case 4: // garbage
      return Buffer.from(Array.from({ length: r(200) }, () => r(256)));
    default: // valid request followed by junk
      return Buffer.concat([b, Buffer.from(Array.from({ length: 1 + r(40) }, () => r(256)))]);
  }
}

test(`the daemon survives ${FRAMES} fuzzed frames and other clients are unaffected`, {
  timeout: 300_000,
}, async () => {
  const store = new MemoryStore();
  const good = await store.addTextToStore('good', 'good\n', []);
  const goodSize = (await store.queryPathInfo(good))!.narSize;
  const { info, nar } = await unsignedPath('fuzz-nar', 'fuzz');
  const d = await startTestDaemon({ store, maxStringLength: 1 << 20 });
  const crashes: unknown[] = [];
  const onCrash = (e: unknown) => crashes.push(e);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  try {
    const observer = await d.client(0);
    const ts = await templates(good, nar, info.path);
    const r = rng(0x7155);
    let sent = 0;
    let stop = false;
    const checks: Promise<number> = (async () => {
      let n = 0;
      while (!stop) {
        assert.equal(await observer.isValidPath(good), true);
        assert.equal((await observer.queryPathInfo(good))?.narSize, goodSize);
        n++;
        await new Promise((res) => setTimeout(res, 5));
      }
      return n;
    })();
    checks.catch(() => {
      stop = true;
    });
    const worker = async () => {
      while (sent < FRAMES) {
        sent++;
        const frames = [mutate(ts[r(ts.length)]!, r)];
        const { received } = await rawSession(d.socket, frames, { timeoutMs: 2000 });
        assert.ok(received.length >= 16, 'the daemon greets every client');
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    stop = true;
    const observed = await checks;
    assert.ok(observed > 0);
    assert.deepEqual(crashes, []);
    // Still serving new clients afterwards.
    const late = await d.client(0);
    assert.equal(await late.isValidPath(good), true);
    assert.equal(d.server.active, 2);
  } finally {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    await d.close();
  }
});
