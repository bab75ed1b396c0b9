// The worker-protocol server against the Nix 2.8 capture, and tix's daemon client against it
// (MemoryStore behind the daemon): every store operation, error framing, trust rules.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { hashBytes } from '../formats/hash.js';
import { narFromBytesTree } from '../formats/nar.js';
import { makeTextPath } from '../formats/store-path.js';
import { readVector } from '../formats/test-vectors.js';
import { WireReader, WireWriter } from '../formats/wire.js';
import { MemoryStore } from '../store/memory.js';
import { STDERR, WORKER_MAGIC_2, WorkerOp } from '../store/worker-protocol.js';
import { writeExportTrailer } from './serve-export.js';
import { serveWorkerConnection } from './worker.js';
import { once, rawSession, sign, startTestDaemon, testKey, unsignedPath } from './worker-test-support.js';

test('replaying the 2.8 `nix copy --to ssh-ng://` client bytes gives the 2.8 server replies', async () => {
  const store = new MemoryStore();
  const out: Uint8Array[] = [];
  const input = [readVector('captures-nix-2.8/nixcopy-sshng-worker-c2s.bin')];
  let i = 0;
  await serveWorkerConnection(
    store,
    { pull: async () => input[i++] ?? null, write: async (c) => void out.push(...c) },
    { trusted: true },
  );
  const got = new WireReader([Buffer.concat(out)]);
  const want = new WireReader([readVector('captures-nix-2.8/nixcopy-sshng-worker-s2c.bin')]);
  assert.equal(await got.u64(), WORKER_MAGIC_2);
  await want.u64();
  assert.equal(await got.u64(), await want.u64()); // 0x122
  assert.match(await got.string(), /^2\.8\.0/);
  await want.string();
  const rest = Buffer.from(await got.readExact(32));
  assert.deepEqual(rest, Buffer.from(await want.readExact(32)));
  assert.ok(await got.atEnd());
  const path = '/nix/store/rrbxlpzcalpix12vfflv7whqy53qb2h7-nix-remote-probe';
  const info = await store.queryPathInfo(path);
  assert.equal(info?.narSize, 120);
  assert.equal(info?.ultimate, false, 'AddMultipleToStore clears ultimate');
});

const key = testKey();
let d: Awaited<ReturnType<typeof startTestDaemon>>;
let backing: MemoryStore;

before(async () => {
  backing = new MemoryStore({ requireSigs: true, trustedPublicKeys: [key.publicKey] });
  d = await startTestDaemon({ store: backing });
});
after(() => d.close());

test('a tix client does every basic operation through the daemon', async () => {
  const s = await d.client();
  const text = await s.addTextToStore('hello.txt', 'hello\n', []);
  assert.equal(text, await backing.addTextToStore('hello.txt', 'hello\n', []));
  assert.equal(await s.isValidPath(text), true);
  const info = await s.queryPathInfo(text);
  assert.deepEqual(info, await backing.queryPathInfo(text));
  assert.equal(await s.queryPathInfo('/nix/store/00000000000000000000000000000000-nope'), undefined);
  const nar: Uint8Array[] = [];
  for await (const c of s.narFromPath(text)) nar.push(c);
  const direct: Uint8Array[] = [];
  for await (const c of backing.narFromPath(text)) direct.push(c);
  assert.deepEqual(Buffer.concat(nar), Buffer.concat(direct));

  const a = await unsignedPath('a', 'aaa');
  const b = await unsignedPath('b', 'bbb');
  const bInfo = { ...b.info, references: [a.info.path] };
  await s.addMultipleToStore(
    [
      { info: a.info, nar: () => once(a.nar) },
      { info: bInfo, nar: () => once(b.nar) },
    ],
    { checkSigs: false },
  );
  assert.deepEqual(
    await s.queryValidPaths([
      a.info.path,
      b.info.path,
      text,
      '/nix/store/00000000000000000000000000000000-nope',
    ]),
    new Set([a.info.path, b.info.path, text]),
  );
  assert.deepEqual(await s.queryReferrers(a.info.path), [b.info.path]);
  assert.equal((await s.queryPathInfo(b.info.path))?.ultimate, false);
  await s.addTempRoot(a.info.path);
  assert.ok(backing.tempRoots.has(a.info.path));
});

test('in-work errors keep the connection; malformed requests end it with an error', async () => {
  const s = await d.client();
  await assert.rejects(
    s.ensurePath('/nix/store/00000000000000000000000000000000-missing'),
    /does not exist and cannot be created/,
  );
  assert.equal(await s.isValidPath('/nix/store/00000000000000000000000000000000-missing'), false);

  const expectError = async (payload: Uint8Array, pattern: RegExp) => {
    const { received, closedByServer } = await rawSession(d.socket, [payload]);
    const r = new WireReader([received]);
    await r.readExact(16); // magic, version
    await r.string(); // daemon version
    assert.equal(await r.u64(), STDERR.LAST);
    assert.equal(await r.u64(), STDERR.ERROR);
    const e = await r.error();
    assert.match(e.message, pattern);
    assert.ok(closedByServer);
  };
  await expectError(new WireWriter().u64(999).toBytes(), /invalid operation 999/);
  await expectError(
    new WireWriter().u64(WorkerOp.IsValidPath).string('/tmp/not-a-store-path').toBytes(),
    /not in the Nix store/,
  );
  await expectError(
    new WireWriter().u64(WorkerOp.AddToStoreNar).string('/nix/store/x').toBytes(),
    /invalid store path|hash part/,
  );
});

test('untrusted clients cannot import unsigned paths; signed paths and trusted clients can', async () => {
  const untrusted = await d.client(1000);
  const trusted = await d.client(0);
  const u = await unsignedPath('unsigned', 'u');
  await assert.rejects(
    untrusted.addToStoreNar(u.info, once(u.nar), { checkSigs: false }),
    new RegExp(`cannot add path '${u.info.path}' because it lacks a valid signature`),
  );
  assert.equal(await backing.isValidPath(u.info.path), false);
  const signed = await unsignedPath('signed', 's');
  await untrusted.addToStoreNar(sign(signed.info, key.sk), once(signed.nar), { checkSigs: true });
  assert.equal(
    (await backing.queryPathInfo(signed.info.path))?.ultimate,
    false,
    'untrusted imports are never ultimate',
  );
  await trusted.addToStoreNar(u.info, once(u.nar), { checkSigs: false });
  assert.equal(await backing.isValidPath(u.info.path), true);
  const signed2 = await unsignedPath('signed2', 's2');
  await trusted.addToStoreNar(sign(signed2.info, key.sk), once(signed2.nar), { checkSigs: true });
  assert.equal(await backing.isValidPath(signed2.info.path), true);
  await assert.rejects(untrusted.addSignatures(u.info.path, ['k:x']), /not privileged to add signatures/);
});

test('an untrusted client may set only the settings anybody may set, and is told so', async () => {
  const w = new WireWriter().u64(WorkerOp.SetOptions);
  w.u64(0).u64(0).u64(0).u64(3).u64(1).u64(0).u64(1).u64(0).u64(0).u64(0).u64(0).u64(1);
  w.stringMap(
    new Map([
      ['sandbox', 'false'],
      ['timeout', '5'],
    ]),
  );
  d.nextUid.uid = 1000;
  d.nextUid.gid = 100;
  const { received } = await rawSession(d.socket, [w.toBytes()]);
  const r = new WireReader([received]);
  await r.readExact(16);
  await r.string();
  assert.equal(await r.u64(), STDERR.LAST);
  assert.equal(await r.u64(), STDERR.NEXT);
  assert.match(
    await r.string(),
    /ignoring the client-specified setting 'sandbox', because it is a restricted setting and you are not a trusted user/,
  );
  assert.equal(await r.u64(), STDERR.LAST);
  assert.ok(await r.atEnd());
});

test('users outside allowed-users and build users are refused with the rule named', async () => {
  const strict = await startTestDaemon({
    store: new MemoryStore(),
    trust: { trustedUsers: ['root'], allowedUsers: ['@wheel'], buildUsersGroup: 'nixbld' },
  });
  try {
    await assert.rejects(strict.client(1000), /user 'alice' is not allowed to connect to the Nix daemon/);
    const root = await strict.client(0);
    assert.equal(await root.isValidPath('/nix/store/00000000000000000000000000000000-x'), false);
  } finally {
    await strict.close();
  }
});

test('ImportPaths (old clients): the export stream read through STDERR_READ, paths registered; untrusted needs signatures', async () => {
  const nar = await narFromBytesTree({ type: 'regular', contents: 'imported\n' });
  const path = makeTextPath('imported', hashBytes('sha256', 'imported\n'), [], '/nix/store');
  const exported = writeExportTrailer(new WireWriter().u64(1).raw(nar), { path, references: [] })
    .u64(0)
    .toBytes();
  const request = (uid: number) => {
    d.nextUid.uid = uid;
    d.nextUid.gid = uid === 0 ? 0 : 100;
    // The whole stream answers the daemon's first STDERR_READ.
    return rawSession(d.socket, [new WireWriter().u64(WorkerOp.ImportPaths).bytes(exported).toBytes()]);
  };
  /** The paths the daemon reports, or the error it sends. */
  const reply = async (received: Buffer): Promise<string[] | string> => {
    const r = new WireReader([received]);
    await r.readExact(16);
    await r.string();
    assert.equal(await r.u64(), STDERR.LAST); // the handshake's
    for (;;) {
      const code = await r.u64();
      if (code === STDERR.READ) await r.u64();
      else if (code === STDERR.LAST) return r.strings();
      else if (code === STDERR.ERROR) {
        await r.string(); // "Error"
        await r.u64(); // level
        await r.string(); // name
        return r.string();
      } else throw new Error(`unexpected stderr code ${code}`);
    }
  };
  const untrusted = await reply((await request(1000)).received);
  assert.equal(untrusted, `cannot add path '${path}' because it lacks a valid signature`);
  assert.equal(await backing.isValidPath(path), false);
  assert.deepEqual(await reply((await request(0)).received), [path]);
  assert.equal((await backing.queryPathInfo(path))?.narSize, nar.length);
});
