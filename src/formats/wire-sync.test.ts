// WireReader's synchronous readers (trySync and the *Sync methods) and WireWriter's in-place
// string encoding, against the async readers and TextEncoder.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WireReader, WireWriter } from './wire.js';

test('trySync decodes buffered values and consumes exactly what the async readers would', async () => {
  const bytes = new WireWriter().u64(7).string('abc').strings(['x', 'yz']).bool(true).string('').toBytes();
  const r = new WireReader([bytes]);
  assert.equal(
    r.trySync(() => r.u64Sync()),
    undefined,
    'nothing is buffered before the first pull',
  );
  assert.equal(await r.atEnd(), false);
  assert.equal(
    r.trySync(() => r.u64Sync()),
    7,
  );
  assert.equal(
    r.trySync(() => r.stringSync()),
    'abc',
  );
  assert.deepEqual(
    r.trySync(() => r.stringsSync()),
    ['x', 'yz'],
  );
  assert.equal(
    r.trySync(() => r.boolSync()),
    true,
  );
  assert.equal(
    r.trySync(() => r.stringSync()),
    '',
  );
  assert.equal(r.position, bytes.length);
  assert.ok(await r.atEnd());
});

test('trySync consumes nothing when the value is not all buffered', async () => {
  const bytes = new WireWriter().string('hello').strings(['a', 'b']).toBytes();
  for (let cut = 0; cut < bytes.length; cut++) {
    const r = new WireReader([bytes.subarray(0, cut), bytes.subarray(cut)]);
    await r.atEnd(); // buffers the first piece (or the second when the first is empty)
    const before = r.position;
    const s = r.trySync(() => r.stringSync());
    if (s === undefined) {
      assert.equal(r.position, before, `cut at ${cut}`);
      assert.equal(await r.string(), 'hello');
    } else assert.equal(s, 'hello');
    const l = r.trySync(() => r.stringsSync());
    assert.deepEqual(l ?? (await r.strings()), ['a', 'b'], `cut at ${cut}`);
    assert.ok(await r.atEnd());
  }
});

test('trySync leaves malformed values to the async readers and their errors', async () => {
  const long = new WireWriter().string('toolong').toBytes();
  const r1 = new WireReader([long], { maxStringLength: 3 });
  assert.equal(
    r1.trySync(() => r1.stringSync()),
    undefined,
  );
  await assert.rejects(r1.string(), /string of 7 bytes exceeds the limit of 3 at byte 0/);
  const badPad = new WireWriter().string('ab').toBytes().slice();
  badPad[12] = 1;
  const r2 = new WireReader([badPad]);
  assert.equal(
    r2.trySync(() => r2.stringSync()),
    undefined,
  );
  await assert.rejects(r2.string(), /non-zero padding at byte 12/);
  const huge = new WireWriter().u64(2n ** 60n).toBytes();
  const r3 = new WireReader([huge]);
  assert.equal(
    r3.trySync(() => r3.u64Sync()),
    undefined,
  );
  await assert.rejects(r3.u64(), /integer .* is too large/);
});

test('WireWriter.string encodes like TextEncoder, padding included', () => {
  const enc = new TextEncoder();
  const samples = [
    '',
    'a',
    '12345678',
    'é',
    '日本語',
    '\u{1f600}x',
    'lone \ud800 surrogate',
    'x'.repeat(30_000),
  ];
  for (const s of samples) {
    const got = new WireWriter().string(s).toBytes();
    const want = new WireWriter().bytes(enc.encode(s)).toBytes();
    assert.deepEqual(got, want, JSON.stringify(s.slice(0, 20)));
  }
  // Many strings in one writer cross its buffer boundaries.
  const w = new WireWriter();
  const ref = new WireWriter();
  for (let i = 0; i < 2000; i++) {
    const s = `/nix/store/${'a'.repeat(i % 90)}-é${i}`;
    w.string(s);
    ref.bytes(enc.encode(s));
  }
  assert.deepEqual(w.toBytes(), ref.toBytes());
});

test('WireWriter.stringSet of zero or one element, and of several (sorted, distinct)', () => {
  const bytes = (f: (w: WireWriter) => void) => {
    const w = new WireWriter();
    f(w);
    return w.toBytes();
  };
  assert.deepEqual(
    bytes((w) => w.stringSet([])),
    bytes((w) => w.u64(0)),
  );
  assert.deepEqual(
    bytes((w) => w.stringSet(['b'])),
    bytes((w) => w.u64(1).string('b')),
  );
  assert.deepEqual(
    bytes((w) => w.stringSet(['b', 'a', 'b'])),
    bytes((w) => w.u64(2).string('a').string('b')),
  );
});
