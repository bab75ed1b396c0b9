import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { StreamInput } from '../distribute/stream-input.js';
import { StreamOutput } from '../distribute/stream-output.js';
import type { Transport } from '../distribute/transport.js';
import { HashSink, printHash } from '../formats/hash.js';
import { readVector } from '../formats/test-vectors.js';
import { WireReader } from '../formats/wire.js';
import { LocalStore } from '../store/local.js';
import { BIG_CHUNK } from '../store/nar-dump-disk.js';
import { openServeStore, ServeStore } from '../store/serve.js';
import { ServeConnection } from '../store/serve-connection.js';
import { readBuildResult, SERVE_MAGIC_2 } from '../store/serve-protocol.js';
import { serveStore } from './serve.js';
import { localServeBuilder } from './serve-build.js';
import { REPO_ROOT } from './worker-test-support.js';

const CAP = 'captures-nix-2.8';
const probe = '/nix/store/rrbxlpzcalpix12vfflv7whqy53qb2h7-nix-remote-probe';

/** Runs the server on `input` bytes; returns what it wrote and how it ended. */
async function runServer(store: LocalStore, input: Uint8Array, write: boolean) {
  const out: Uint8Array[] = [];
  const log: string[] = [];
  let error: Error | undefined;
  await serveStore(
    store,
    {
      pull: (() => {
        const chunks = [input];
        return async () => chunks.shift() ?? null;
      })(),
      write: async (chunks) => {
        for (const c of chunks) out.push(c.slice());
      },
      log: (c) => log.push(Buffer.from(c).toString()),
    },
    { write, builder: localServeBuilder(store, { sandbox: 'true' }) },
  ).catch((e) => {
    error = e;
  });
  return { out: Buffer.concat(out), error, log: log.join('') };
}

/** A client ServeStore talking to an in-process server over two pipes. */
function pipeStore(store: LocalStore, write = true): { client: Promise<ServeStore>; served: Promise<void> } {
  const c2s = new PassThrough();
  const s2c = new PassThrough();
  const serverIn = new StreamInput(c2s);
  const serverOut = new StreamOutput(s2c);
  const served = serveStore(
    store,
    { pull: serverIn.pull, write: (c) => serverOut.write(c), log: () => {} },
    { write, builder: localServeBuilder(store, { sandbox: 'true' }) },
  ).finally(() => s2c.end());
  const transport: Transport = {
    name: 'in-process',
    input: new StreamInput(s2c),
    output: new StreamOutput(c2s),
    exited: served.then(
      () => ({ code: 0, signal: null }),
      () => ({ code: 1, signal: null }),
    ),
    stderrTail: () => '',
    explainFailure: () => undefined,
    close: async () => {
      c2s.end();
      await served.catch(() => {});
    },
  };
  const conn = new ServeConnection(transport);
  return { client: conn.handshake().then(() => new ServeStore('exec://in-process', conn)), served };
}

describe('serve protocol server', () => {
  let dir: string;
  let store: LocalStore;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tix-serve-'));
    store = new LocalStore({ root: join(dir, 'root') });
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('replaying the nix copy capture gives the recorded reply byte for byte', async () => {
    const r = await runServer(store, readVector(`${CAP}/nixcopy-ssh-serve-c2s.bin`), true);
    assert.equal(r.error, undefined);
    assert.deepEqual(r.out, readVector(`${CAP}/nixcopy-ssh-serve-s2c.bin`));
    const info = await store.queryPathInfo(probe);
    assert.equal(info?.narHash, 'sha256:1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13');
    assert.equal(info?.deriver, '/nix/store/q0h071q09mba7xx446jvspv903g365pq-nix-remote-probe.drv');
  });

  test('replaying the hook capture builds the derivation and answers like Nix 2.8', async () => {
    const r = await runServer(store, readVector(`${CAP}/hook-ssh-serve-c2s.bin`), true);
    assert.equal(r.error, undefined, r.log);
    const got = new WireReader([new Uint8Array(r.out)]);
    const want = new WireReader([new Uint8Array(readVector(`${CAP}/hook-ssh-serve-s2c.bin`))]);
    for (const w of [got, want]) {
      assert.equal(await w.u64(), SERVE_MAGIC_2);
      assert.equal(await w.u64(), 0x207);
      assert.deepEqual(await w.strings(), []);
    }
    const a = await readBuildResult(got, 0x207, '/nix/store');
    const b = await readBuildResult(want, 0x207, '/nix/store');
    assert.equal(a.status, b.status, a.errorMsg);
    assert.equal(a.timesBuilt, b.timesBuilt);
    assert.deepEqual(a.builtOutputs, b.builtOutputs);
    assert.equal(await got.atEnd(), true);
    // The builder's stdout and stderr went to the log (stderr of `tix-store --serve`).
    assert.match(r.log, /building-on-remote\n/);
    assert.match(r.log, /to-stderr\n/);
    // The reply's realisation map is exactly the recorded one (same DrvOutput id and JSON).
    const tail = (b: Buffer) => b.subarray(b.length - 0x120);
    assert.deepEqual(tail(r.out), tail(readVector(`${CAP}/hook-ssh-serve-s2c.bin`)));
  });

  test('a read-only server refuses imports; bad magic is a protocol mismatch', async () => {
    const r = await runServer(store, readVector(`${CAP}/nixcopy-ssh-serve-c2s.bin`), false);
    assert.match(String(r.error?.message), /importing paths is not allowed/);
    const bad = await runServer(store, new Uint8Array(16), true);
    assert.match(String(bad.error?.message), /^protocol mismatch$/);
    assert.equal(bad.out.length, 0);
  });

  test('tix client against tix server: info, NAR, closure, text, export/import', async () => {
    const { client } = pipeStore(store);
    const s = await client;
    const text = await s.addTextToStore('hello.txt', 'hello world\n', []);
    const dep = await s.addTextToStore('dep.txt', `uses ${text}\n`, [text]);
    assert.deepEqual([...(await s.queryValidPaths([text, dep, `${text}x`]))].sort(), [dep, text].sort());
    const info = await s.queryPathInfo(dep);
    assert.deepEqual(info?.references, [text]);
    assert.equal(info?.narHash, (await store.queryPathInfo(dep))?.narHash);
    assert.match(info?.ca ?? '', /^text:sha256:/);
    const chunks: Uint8Array[] = [];
    for await (const c of s.narFromPath(dep)) chunks.push(c);
    assert.equal(Buffer.concat(chunks).length, info?.narSize);
    assert.deepEqual(await s.queryClosure([dep], false), [dep, text].sort());
    // The connection is still in step after streaming a NAR.
    assert.equal(await s.isValidPath(text), true);
    await s.close();
  });
});

test('tix-store --serve sends a big path read into recycled buffers intact (real pipes)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tix-serve-big-'));
  try {
    const root = join(dir, 'root');
    const local = new LocalStore({ root, fsync: false, runtimeRoots: false });
    // Random bytes over several pool-sized chunks: a buffer reused before the pipe took it would
    // change the NAR that arrives.
    const big = local.addTextToStoreSync('big.bin', randomBytes(3 * BIG_CHUNK + 4321), []);
    const info = (await local.queryPathInfo(big))!;
    await local.close();
    const s = await openServeStore(
      `exec://${join(REPO_ROOT, 'bin/tix-store')} --serve --store 'local?root=${root}'`,
    );
    try {
      const h = new HashSink('sha256');
      for await (const c of s.narFromPath(big)) h.update(c);
      assert.equal(h.bytesSeen, info.narSize);
      assert.equal(`sha256:${printHash(h.finish(), 'base16')}`, info.narHash);
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
