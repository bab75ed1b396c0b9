import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WireReader, WireWriter } from '../formats/wire.js';
import type { ValidPathInfo } from '../store/store.js';
import type { WorkerConn } from './worker-context.js';
import { TunnelLogger } from './worker-logger.js';
import { replyPathInfo } from './worker-ops-query.js';

const P = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a';

/** The reply replyPathInfo gives for `info` (after STDERR_LAST): the fields as read back. */
async function reply(info: ValidPathInfo, minor = 34) {
  const conn = {
    minor,
    reply: new WireWriter(),
    logger: new TunnelLogger({ write: async () => {} }, minor),
  } as unknown as WorkerConn;
  conn.logger.startWork();
  replyPathInfo(conn, P, info);
  const r = new WireReader(conn.reply.takeChunks());
  const valid = await r.bool();
  const fields: unknown[] = [
    await r.string(),
    await r.string(),
    await r.strings(),
    await r.u64(),
    await r.u64(),
  ];
  if (minor >= 16) fields.push(await r.bool(), await r.strings(), await r.string());
  assert.ok(await r.atEnd());
  return { valid, fields };
}

function info(): ValidPathInfo {
  return {
    path: P,
    narHash: `sha256:${'ab'.repeat(32)}`,
    narSize: 120,
    references: [P],
    registrationTime: 1700000000,
    ultimate: true,
    sigs: ['k:c2ln'],
  };
}

test('a path info that may still change is encoded afresh each time', async () => {
  const i = info();
  assert.deepEqual((await reply(i)).fields, [
    '',
    'ab'.repeat(32),
    [P],
    1700000000,
    120,
    true,
    ['k:c2ln'],
    '',
  ]);
  i.sigs.push('k2:c2ln');
  i.narSize = 7;
  assert.deepEqual((await reply(i)).fields, [
    '',
    'ab'.repeat(32),
    [P],
    1700000000,
    7,
    true,
    ['k2:c2ln', 'k:c2ln'],
    '',
  ]);
});

test('a frozen path info gives the same bytes every time, for each protocol version', async () => {
  const i = info();
  Object.freeze(i.references);
  Object.freeze(i.sigs);
  Object.freeze(i);
  const want = ['', 'ab'.repeat(32), [P], 1700000000, 120, true, ['k:c2ln'], ''];
  assert.deepEqual(await reply(i), { valid: true, fields: want });
  assert.deepEqual(await reply(i), { valid: true, fields: want });
  // An older client gets the older layout, not the bytes kept for 1.34.
  const old = new WireWriter();
  const conn = { minor: 15, reply: old, logger: new TunnelLogger({ write: async () => {} }, 15) };
  conn.logger.startWork();
  replyPathInfo(conn as unknown as WorkerConn, P, i);
  const r = new WireReader(old.takeChunks());
  assert.deepEqual(
    [await r.string(), await r.string(), await r.strings(), await r.u64(), await r.u64()],
    want.slice(0, 5),
  );
  assert.ok(await r.atEnd());
});
