import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from '../build/test-support.js';
import { StoreError } from './errors.js';
import { withHandshakeDeadline } from './handshake-deadline.js';
import { openStore } from './open.js';

const dir = tempDir('handshake-deadline');
after(() => rmSync(dir, { recursive: true, force: true }));

test('a handshake that never ends is cut off: the transport closed, a CONNECTION error', async () => {
  let closed = 0;
  const never = new Promise<void>(() => {});
  const started = Date.now();
  await assert.rejects(
    withHandshakeDeadline(never, { seconds: 0.2, close: async () => void closed++, uri: 'ssh://hung' }),
    (e) =>
      e instanceof StoreError &&
      e.code === 'CONNECTION' &&
      e.message === "no answer from 'ssh://hung' within 0.2 s of connecting (connect-timeout)",
  );
  assert.equal(closed, 1);
  assert.ok(Date.now() - started >= 190);
  // No limit (0 or unset), or a handshake in time: its own result, nothing closed.
  assert.equal(
    await withHandshakeDeadline(Promise.resolve(7), {
      seconds: 0,
      close: async () => void closed++,
      uri: 'x',
    }),
    7,
  );
  assert.equal(
    await withHandshakeDeadline(Promise.resolve(8), {
      seconds: 5,
      close: async () => void closed++,
      uri: 'x',
    }),
    8,
  );
  await assert.rejects(
    withHandshakeDeadline(Promise.reject(new Error('refused')), {
      seconds: 5,
      close: async () => {},
      uri: 'x',
    }),
    /refused/,
  );
  assert.equal(closed, 1);
});

test('a daemon socket that accepts but never answers: openStore fails after connect-timeout', async () => {
  const socket = join(dir, 'silent.sock');
  const held: import('node:net').Socket[] = [];
  // Reads what the client sends (so that its end is seen) and never answers.
  const server = createServer((c) => {
    held.push(c);
    c.resume();
  });
  await new Promise<void>((r) => server.listen(socket, r));
  try {
    await assert.rejects(
      openStore(`unix://${socket}`, { connectTimeout: 0.3 }),
      (e) => e instanceof StoreError && /within 0\.3 s of connecting \(connect-timeout\)/.test(e.message),
    );
    // The same deadline from the `connect-timeout` setting, as commands pass their settings.
    await assert.rejects(
      openStore(`unix://${socket}`, { settings: new Map([['connect-timeout', '1']]) }),
      (e) => e instanceof StoreError && /within 1 s of connecting \(connect-timeout\)/.test(e.message),
    );
    // The client side was closed: the daemon sees its connection end.
    await new Promise<void>((r) => (held[0]!.destroyed ? r() : held[0]!.once('close', () => r())));
  } finally {
    for (const c of held) c.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
