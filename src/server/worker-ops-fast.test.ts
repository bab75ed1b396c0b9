// The fast (synchronous) query path against the ordinary one: the same request bytes, served by a
// LocalStore with and without its *Sync methods and cut into chunks of every size, give the same
// reply bytes and the same end; the replies decode to the store's own path infos.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { WireReader, WireWriter } from '../formats/wire.js';
import type { LocalStore } from '../store/local.js';
import { makeLocalStore, removeDir } from '../store/test-util.js';
import { STDERR, WORKER_MAGIC_1, WorkerOp } from '../store/worker-protocol.js';
import { serveWorkerConnection } from './worker.js';
import type { DaemonStore } from './worker-context.js';
import { fastOps } from './worker-ops-fast.js';
import { queryMissing } from './worker-ops-query.js';

const { store, root } = makeLocalStore();
after(async () => {
  await store.close();
  removeDir(root);
});

const dep = await store.addTextToStore('dep', 'dep\n', []);
const dep2 = await store.addTextToStore('dep2', 'dep2\n', []);
const top = await store.addTextToStore('top', `${dep} ${dep2}\n`, [dep2, dep]);
await store.addSignatures(top, ['k2:sig', 'k1:sig']);
const missing = '/nix/store/00000000000000000000000000000000-missing';

/** Hides the *Sync methods, so that only the ordinary (async) handlers run. */
function asyncOnly(s: LocalStore): DaemonStore {
  const hidden = new Set(['isValidPathSync', 'queryPathInfoSync', 'queryValidPathsSync']);
  return new Proxy(s, {
    get: (t, p) => {
      if (typeof p === 'string' && hidden.has(p)) return undefined;
      const v = Reflect.get(t, p, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  }) as DaemonStore;
}

function session(clientVersion: number, ops: (w: WireWriter) => void): Uint8Array {
  const w = new WireWriter().u64(WORKER_MAGIC_1).u64(clientVersion).u64(0).u64(0);
  ops(w);
  return w.toBytes();
}

const queries = (minor: number) => (w: WireWriter) => {
  w.u64(WorkerOp.QueryPathInfo).string(top);
  w.u64(WorkerOp.QueryPathInfo).string(missing);
  w.u64(WorkerOp.IsValidPath).string(dep);
  w.u64(WorkerOp.IsValidPath).string(missing);
  w.u64(WorkerOp.QueryValidPaths).strings([top, missing, dep]);
  if (minor >= 27) w.bool(false); // substitute
  w.u64(WorkerOp.QueryMissing).strings([dep, missing]);
  w.u64(WorkerOp.QueryPathInfo).string(dep2);
};

/** Serves `input` cut into `chunk`-byte pieces; the reply bytes and how the session ended. */
async function serve(s: DaemonStore, input: Uint8Array, chunk: number) {
  const out: Uint8Array[] = [];
  let at = 0;
  const pull = async () => {
    if (at >= input.length) return null;
    const c = input.subarray(at, at + chunk);
    at += chunk;
    return c;
  };
  const end = await serveWorkerConnection(
    s,
    { pull, write: async (c) => void out.push(...c.map((b) => b.slice())) },
    { trusted: true },
  ).then(
    () => 'clean end',
    (e: Error) => `failed: ${e.message}`,
  );
  return { bytes: Buffer.concat(out), end };
}

async function assertSameEverywhere(input: Uint8Array) {
  const want = await serve(asyncOnly(store), input, input.length);
  for (const s of [store, asyncOnly(store)]) {
    for (const chunk of [input.length, 1, 3, 8, 13, 64]) {
      const got = await serve(s, input, chunk);
      assert.equal(got.end, want.end, `chunks of ${chunk}`);
      assert.ok(got.bytes.equals(want.bytes), `chunks of ${chunk}: reply bytes differ`);
    }
  }
  return want;
}

test('LocalStore gets the fast operations; a store without sync lookups gets none', () => {
  const ops = fastOps(store);
  for (const op of [WorkerOp.QueryPathInfo, WorkerOp.IsValidPath, WorkerOp.QueryValidPaths])
    assert.equal(typeof ops[op], 'function');
  assert.deepEqual(fastOps(asyncOnly(store)), {});
});

test('fast and ordinary handlers give identical replies (1.34), which decode to the path infos', async () => {
  const { bytes, end } = await assertSameEverywhere(session(0x122, queries(34)));
  assert.equal(end, 'clean end');
  const r = new WireReader([bytes]);
  await r.u64(); // magic 2
  await r.u64(); // version
  await r.string(); // daemon version
  assert.equal(await r.u64(), STDERR.LAST); // handshake
  const info = await store.queryPathInfo(top);
  assert.equal(await r.u64(), STDERR.LAST);
  assert.equal(await r.bool(), true);
  assert.equal(await r.string(), ''); // deriver
  assert.equal(`sha256:${await r.string()}`, info?.narHash);
  assert.deepEqual(await r.strings(), [dep, dep2].sort());
  assert.equal(await r.u64(), info?.registrationTime);
  assert.equal(await r.u64(), info?.narSize);
  assert.equal(await r.bool(), false); // ultimate
  assert.deepEqual(await r.strings(), ['k1:sig', 'k2:sig']);
  assert.equal(await r.string(), info?.ca ?? '');
  assert.equal(await r.u64(), STDERR.LAST);
  assert.equal(await r.bool(), false); // missing
  for (const valid of [true, false]) {
    assert.equal(await r.u64(), STDERR.LAST);
    assert.equal(await r.bool(), valid);
  }
  assert.equal(await r.u64(), STDERR.LAST);
  assert.deepEqual(await r.strings(), [top, dep].sort());
});

test('an old client (1.16) gets an in-work error for an invalid path and the session goes on', async () => {
  const { bytes, end } = await assertSameEverywhere(session(0x110, queries(16)));
  assert.equal(end, 'clean end');
  assert.ok(bytes.includes(Buffer.from(`path '${missing}' is not valid`)));
});

test('a malformed path ends the session the same way on both paths', async () => {
  for (const bad of ['/tmp/x', '/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x', `${dep}/sub`]) {
    for (const op of [WorkerOp.QueryPathInfo, WorkerOp.IsValidPath]) {
      const { end } = await assertSameEverywhere(session(0x122, (w) => w.u64(op).string(bad)));
      assert.match(end, /^failed: (path '.*' is not in the Nix store|invalid store path)/);
    }
    const { end } = await assertSameEverywhere(
      session(0x122, (w) => w.u64(WorkerOp.QueryValidPaths).strings([dep, bad]).bool(false)),
    );
    assert.match(end, /^failed: /);
  }
});

test('a request cut off in the middle fails the same way on both paths', async () => {
  const whole = session(0x122, (w) => w.u64(WorkerOp.QueryPathInfo).string(top));
  const { end } = await assertSameEverywhere(whole.subarray(0, whole.length - 5));
  assert.match(end, /unexpected end of input/);
});

test('queryMissing: invalid opaque paths are unknown, valid ones need nothing', async () => {
  const m = await queryMissing(store, [
    { kind: 'opaque', path: dep },
    { kind: 'opaque', path: missing },
    { kind: 'opaque', path: missing },
    { kind: 'built', drvPath: '/nix/store/11111111111111111111111111111111-x.drv', outputs: ['out'] },
  ]);
  assert.deepEqual([...m.unknown].sort(), [missing, '/nix/store/11111111111111111111111111111111-x.drv']);
  assert.deepEqual([...m.willBuild], []);
});
