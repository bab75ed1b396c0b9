import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FormatError } from './errors.js';
import { collectBytes, narFromBytesTree, narTreeSink, nullNarSink } from './nar.js';
import {
  framed,
  SERVE_MAGIC_1,
  SERVE_MAGIC_2,
  STDERR,
  WireReader,
  WireWriter,
  WORKER_MAGIC_1,
  WORKER_MAGIC_2,
} from './wire.js';

function vectorsDir(): string {
  if (process.env.TIX_VECTORS) return process.env.TIX_VECTORS;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return join(dir, '..', 'shared', 'vectors');
}
const V = vectorsDir();
const bin = (rel: string) => new Uint8Array(readFileSync(join(V, rel)));
const json = (rel: string) => JSON.parse(readFileSync(join(V, rel), 'utf8'));
const sha256hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Splits bytes into chunks of the given size, to exercise reads across chunk boundaries. */
function* pieces(b: Uint8Array, size: number): Generator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function rejectsWire(p: Promise<unknown>, re: RegExp, code = 'BAD_WIRE'): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof FormatError && e.code === code && re.test(e.message));
}

type Nested = string | null | Nested[];
async function readNested(r: WireReader, shape: Nested): Promise<Nested> {
  if (!Array.isArray(shape)) return r.string();
  const n = await r.u64();
  const out: Nested[] = [];
  for (let i = 0; i < n; i++) out.push(await readNested(r, shape[i] ?? ''));
  return out;
}
function writeNested(w: WireWriter, v: Nested): void {
  if (!Array.isArray(v)) w.string(v ?? '');
  else {
    w.u64(v.length);
    for (const x of v) writeNested(w, x);
  }
}

describe('wire primitives against vectors/common-protocol (also in serve-/worker-protocol)', () => {
  for (const dir of ['common-protocol', 'serve-protocol', 'worker-protocol']) {
    it(`${dir}: strings, store paths, optional paths, sets, vectors decode and re-encode exactly`, async () => {
      for (const [stem, toWire] of [
        ['string', (s: Nested) => s],
        ['store-path', (s: Nested) => `/nix/store/${s}`],
        ['optional-store-path', (s: Nested) => (s === null ? '' : `/nix/store/${s}`)],
        ['set', (s: Nested) => s],
        ['vector', (s: Nested) => s],
        ['drv-output', (s: Nested) => s],
      ] as const) {
        const values = (json(`${dir}/${stem}.json`) as Nested[]).map(toWire);
        const bytes = bin(`${dir}/${stem}.bin`);
        for (const size of [bytes.length, 1, 5]) {
          const r = new WireReader(pieces(bytes, size));
          const got: Nested[] = [];
          for (const v of values) got.push(await readNested(r, v));
          assert.deepEqual(got, values, `${dir}/${stem}`);
          assert.ok(await r.atEnd(), `${dir}/${stem} fully consumed`);
        }
        const w = new WireWriter();
        for (const v of values) writeNested(w, v);
        assert.deepEqual(w.toBytes(), bytes, `${dir}/${stem} re-encoded`);
      }
    });
  }

  it('content addresses and optional content addresses are strings in 2.8 form', async () => {
    const r = new WireReader([bin('common-protocol/content-address.bin')]);
    const cas = [await r.string(), await r.string(), await r.string()];
    assert.match(cas[0]!, /^text:sha256:[0-9a-z]{52}$/);
    assert.match(cas[1]!, /^fixed:sha1:[0-9a-z]{32}$/);
    assert.match(cas[2]!, /^fixed:r:sha256:[0-9a-z]{52}$/);
    assert.ok(await r.atEnd());
    assert.deepEqual(
      new WireWriter().string(cas[0]!).string(cas[1]!).string(cas[2]!).toBytes(),
      bin('common-protocol/content-address.bin'),
    );
    const o = new WireReader([bin('common-protocol/optional-content-address.bin')]);
    assert.equal(await o.string(), '');
    assert.equal(await o.string(), cas[1]);
    assert.ok(await o.atEnd());
  });

  it('stringSet writes sorted, distinct, byte-wise (std::set order)', () => {
    const w = new WireWriter().stringSet(['foo', '', 'bar', 'foo']);
    const ref = new WireWriter().u64(3).string('').string('bar').string('foo');
    assert.deepEqual(w.toBytes(), ref.toBytes());
    const utf = new WireWriter().stringSet(['\u{ff61}', '\u{1f600}', 'z']).toBytes();
    const expected = new WireWriter().u64(3).string('z').string('\u{ff61}').string('\u{1f600}').toBytes();
    assert.deepEqual(utf, expected);
  });

  it('handshake-to-client: magic 2 + the upstream test default version', async () => {
    const s = new WireReader([bin('serve-protocol/handshake-to-client.bin')]);
    await s.expectU64(SERVE_MAGIC_2, 'serve magic');
    assert.equal(await s.u64(), 0x205);
    const w = new WireReader([bin('worker-protocol/handshake-to-client.bin')]);
    await w.expectU64(WORKER_MAGIC_2, 'worker magic');
    assert.equal(await w.u64(), 0x10a);
    const bad = new WireReader([bin('worker-protocol/handshake-to-client.bin')]);
    await rejectsWire(
      bad.expectU64(SERVE_MAGIC_2, 'serve magic'),
      /expected serve magic 0x5452eecb, got 0x6478696f at byte 0$/,
    );
  });

  it('client handshake info 1.33: the version string', async () => {
    const r = new WireReader([bin('worker-protocol/client-handshake-info_1_33.bin')]);
    assert.deepEqual([await r.string(), await r.string()], ['foo', 'bar']);
  });
});

describe('wire decoding of the Nix 2.8.0 captures', () => {
  const PROBE = '/nix/store/rrbxlpzcalpix12vfflv7whqy53qb2h7-nix-remote-probe';
  const PROBE_DRV = '/nix/store/q0h071q09mba7xx446jvspv903g365pq-nix-remote-probe.drv';
  const PROBE_NAR_HASH = '1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13';

  it('serve handshake, both directions', async () => {
    const c = new WireReader([bin('captures-nix-2.8/serve-handshake-c2s.bin')]);
    await c.expectU64(SERVE_MAGIC_1, 'serve magic');
    assert.equal(await c.u64(), 0x207);
    const s = new WireReader([bin('captures-nix-2.8/serve-handshake-s2c.bin')]);
    await s.expectU64(SERVE_MAGIC_2, 'serve magic');
    assert.equal(await s.u64(), 0x207);
    assert.deepEqual(
      new WireWriter().u64(SERVE_MAGIC_1).u64(0x207).toBytes(),
      bin('captures-nix-2.8/serve-handshake-c2s.bin'),
    );
    assert.deepEqual(
      new WireWriter().u64(WORKER_MAGIC_2).u64(0x122).toBytes(),
      bin('captures-nix-2.8/worker-handshake-s2c.bin'),
    );
  });

  it('nix copy over ssh:// (serve 2.7): QueryValidPaths, AddToStoreNar + raw NAR', async () => {
    const bytes = bin('captures-nix-2.8/nixcopy-ssh-serve-c2s.bin');
    const r = new WireReader(pieces(bytes, 24));
    await r.expectU64(SERVE_MAGIC_1, 'serve magic');
    assert.equal(await r.u64(), 0x207);
    assert.deepEqual([await r.u64(), await r.bool(), await r.bool()], [1, false, false]);
    assert.deepEqual(await r.strings(), [PROBE]);
    assert.equal(await r.u64(), 9);
    assert.deepEqual(
      [await r.string(), await r.string(), await r.string()],
      [PROBE, PROBE_DRV, PROBE_NAR_HASH],
    );
    assert.deepEqual(await r.strings(), []);
    assert.deepEqual([await r.u64(), await r.u64(), await r.bool()], [1795546624, 120, false]);
    assert.deepEqual([await r.strings(), await r.string()], [[], '']);
    const copied: Uint8Array[] = [];
    const sink = narTreeSink();
    assert.deepEqual(await r.copyNar((c) => void copied.push(c.slice()), { sink }), { narSize: 120 });
    const nar = Buffer.concat(copied);
    assert.equal(sha256hex(nar), PROBE_NAR_HASH);
    assert.deepEqual(sink.root(), {
      type: 'regular',
      executable: false,
      contents: new TextEncoder().encode('hello\n'),
    });
    assert.ok(await r.atEnd());
    const w = new WireWriter()
      .u64(SERVE_MAGIC_1)
      .u64(0x207)
      .u64(1)
      .bool(false)
      .bool(false)
      .stringSet([PROBE])
      .u64(9)
      .string(PROBE)
      .string(PROBE_DRV)
      .string(PROBE_NAR_HASH)
      .stringSet([])
      .u64(1795546624)
      .u64(120)
      .bool(false)
      .stringSet([])
      .string('')
      .raw(nar);
    assert.deepEqual(w.toBytes(), bytes);
  });

  it('nix copy over ssh-ng:// (worker 1.34): AddMultipleToStore in a framed stream', async () => {
    const bytes = bin('captures-nix-2.8/nixcopy-sshng-worker-c2s.bin');
    for (const size of [bytes.length, 3, 64]) {
      const r = new WireReader(pieces(bytes, size));
      await r.expectU64(WORKER_MAGIC_1, 'worker magic');
      assert.deepEqual([await r.u64(), await r.u64(), await r.u64()], [0x122, 0, 0]);
      assert.equal(await r.u64(), 31);
      assert.deepEqual([await r.strings(), await r.bool()], [[PROBE], false]);
      assert.deepEqual([await r.u64(), await r.bool(), await r.bool()], [44, false, true]);
      const inner = new WireReader(r.framedSource(), { what: 'framed stream' });
      assert.equal(await inner.u64(), 1);
      assert.deepEqual(
        [await inner.string(), await inner.string(), await inner.string(), await inner.strings()],
        [PROBE, PROBE_DRV, PROBE_NAR_HASH, []],
      );
      assert.deepEqual([await inner.u64(), await inner.u64(), await inner.bool()], [1795546126, 120, true]);
      assert.deepEqual([await inner.strings(), await inner.string()], [[], '']);
      const nar = await collectBytes(inner.narStream());
      assert.equal(sha256hex(nar), PROBE_NAR_HASH);
      assert.ok(await inner.atEnd());
      assert.ok(await r.atEnd(), 'the terminating zero frame was consumed');
    }
    // Re-encode: the payload framed as Nix does (one frame below 32 KiB, then 0).
    const payload = new WireWriter()
      .u64(1)
      .string(PROBE)
      .string(PROBE_DRV)
      .string(PROBE_NAR_HASH)
      .stringSet([])
      .u64(1795546126)
      .u64(120)
      .bool(true)
      .stringSet([])
      .string('')
      .raw(bytes.subarray(0x1b0, 0x228))
      .takeChunks();
    const head = new WireWriter()
      .u64(WORKER_MAGIC_1)
      .u64(0x122)
      .u64(0)
      .u64(0)
      .u64(31)
      .strings([PROBE])
      .bool(false);
    head.u64(44).bool(false).bool(true);
    const all = await collectBytes(
      (async function* () {
        yield* head.takeChunks();
        yield* framed(payload);
      })(),
    );
    assert.deepEqual(all, bytes);
  });

  it('ssh-ng server replies: version string, STDERR_LAST, QueryPathInfo', async () => {
    const r = new WireReader([bin('captures-nix-2.8/nixcopy-sshng-worker-s2c.bin')]);
    await r.expectU64(WORKER_MAGIC_2, 'worker magic');
    assert.deepEqual([await r.u64(), await r.string(), await r.u64()], [0x122, '2.8.0', STDERR.LAST]);
    assert.deepEqual([await r.u64(), await r.strings(), await r.u64()], [STDERR.LAST, [], STDERR.LAST]);
    assert.ok(await r.atEnd());
    const q = new WireReader([bin('captures-nix-2.8/worker-querypathinfo-reply.bin')]);
    assert.deepEqual(
      [await q.u64(), await q.bool(), await q.string(), await q.string()],
      [STDERR.LAST, true, PROBE_DRV, PROBE_NAR_HASH],
    );
    assert.deepEqual(
      [await q.strings(), await q.u64(), await q.u64(), await q.bool()],
      [[], 1795546126, 120, true],
    );
    assert.deepEqual([await q.strings(), await q.string()], [[], '']);
    assert.ok(await q.atEnd());
  });

  it('the build hook over ssh:// (serve 2.7): BuildDerivation request and BuildResult reply', async () => {
    const c = new WireReader([bin('captures-nix-2.8/hook-ssh-serve-c2s.bin')]);
    await c.expectU64(SERVE_MAGIC_1, 'serve magic');
    assert.deepEqual(
      [await c.u64(), await c.u64(), await c.u64(), await c.u64(), await c.strings()],
      [0x207, 1, 0, 0, []],
    );
    assert.equal(await c.u64(), 8);
    assert.equal(await c.string(), '/nix/store/hxksjx12i78hiic929ckc0qw7n9ai28i-nix-remote-probe4.drv');
    assert.equal(await c.u64(), 1);
    const out = [await c.string(), await c.string(), await c.string(), await c.string()];
    assert.deepEqual(out, ['out', '/nix/store/pjca4k4wz2sqfnl7avs913lzwn7q6y23-nix-remote-probe4', '', '']);
    assert.deepEqual(
      [await c.strings(), await c.string(), await c.string()],
      [[], 'x86_64-linux', '/bin/sh'],
    );
    const args = await c.strings();
    assert.equal(args[1], 'echo building-on-remote; echo to-stderr >&2; echo hello2 > $out');
    const env = await c.stringMap();
    assert.deepEqual([...env.keys()], ['builder', 'name', 'out', 'system']);
    const opts = [];
    for (let i = 0; i < 6; i++) opts.push(await c.u64());
    assert.deepEqual(opts, [0, 0, 0, 0, 1, 0]);
    assert.ok(await c.atEnd());
    const w = new WireWriter().stringMap(env);
    assert.deepEqual(w.toBytes(), bin('captures-nix-2.8/hook-ssh-serve-c2s.bin').subarray(0x188, 0x260));

    const s = new WireReader([bin('captures-nix-2.8/hook-ssh-serve-s2c.bin')]);
    await s.expectU64(SERVE_MAGIC_2, 'serve magic');
    assert.deepEqual([await s.u64(), await s.strings(), await s.u64(), await s.string()], [0x207, [], 0, '']);
    assert.deepEqual(
      [await s.u64(), await s.bool(), await s.i64(), await s.i64()],
      [1, false, 1795546500, 1795546500],
    );
    const built = await s.stringMap();
    const [id, realisation] = [...built][0]!;
    assert.equal(id, 'sha256:cdf4a2097e8c2b2e9fe4a914b7cf190e0612c2072a37fe79c0834eadc0955438!out');
    assert.equal(JSON.parse(realisation).outPath, 'pjca4k4wz2sqfnl7avs913lzwn7q6y23-nix-remote-probe4');
    assert.ok(await s.atEnd());
  });

  it('a failed BuildDerivation carries the error message with ANSI escapes', async () => {
    const r = new WireReader([bin('captures-nix-2.8/serve-buildderivation-fail-reply-client-v2.7.bin')]);
    assert.equal(await r.u64(), 3);
    const msg = await r.string();
    assert.equal(msg.length, 122);
    assert.match(msg, /^\x1b\[0mbuilder for '\x1b\[35;1m\/nix\/store\/wfyb.*' failed with exit code 3$/);
    assert.deepEqual(
      [await r.u64(), await r.bool(), await r.i64(), await r.i64(), await r.u64()],
      [1, false, 1795546378, 1795546378, 0],
    );
    assert.ok(await r.atEnd());
  });

  it('serve QueryPathInfos reply: the list ends with an empty path', async () => {
    const r = new WireReader([bin('captures-nix-2.8/serve-querypathinfos-reply-client-v2.7.bin')]);
    assert.equal(await r.string(), PROBE_DRV);
    assert.deepEqual([await r.string(), await r.strings(), await r.u64(), await r.u64()], ['', [], 408, 408]);
    assert.equal(await r.string(), 'sha256:1d3spqzpphjxb1kfy7g0vk1bhpmsikslv2x0y0igpsi1wxryx079');
    assert.equal(await r.string(), 'text:sha256:0xnxvbrwrw968mvsc2r8iv9q7pgy4jqzz77csspd3c7y83akd2hg');
    assert.deepEqual([await r.strings(), await r.string()], [[], '']);
    assert.ok(await r.atEnd());
  });
});

describe('wire robustness', () => {
  it('rejects absurd lengths before allocating, big integers, bad padding, truncation', async () => {
    const huge = new WireWriter().u64(2 ** 40).toBytes();
    await rejectsWire(
      new WireReader([huge]).bytes(),
      /string of 1099511627776 bytes exceeds the limit of 67108864 at byte 0$/,
    );
    await rejectsWire(
      new WireReader([new WireWriter().u64(100).toBytes()]).string(10),
      /exceeds the limit of 10/,
    );
    const big = new WireWriter().u64(2n ** 63n).toBytes();
    await rejectsWire(new WireReader([big]).u64(), /integer 9223372036854775808 is too large at byte 0$/);
    assert.equal(await new WireReader([big]).u64big(), 2n ** 63n);
    assert.equal(await new WireReader([new WireWriter().i64(-5).toBytes()]).i64(), -5);
    await rejectsWire(
      new WireReader([new WireWriter().u64(2 ** 32).toBytes()]).u32(),
      /too large for a 32-bit field/,
    );
    const pad = new WireWriter().string('abc').toBytes();
    pad[13] = 1;
    await rejectsWire(new WireReader([pad]).string(), /non-zero padding at byte 13$/);
    const short = new WireWriter().string('abcdefgh').toBytes().subarray(0, 12);
    await rejectsWire(new WireReader(pieces(short, 5)).string(), /unexpected end of input .* at byte 12$/);
    await rejectsWire(new WireReader([]).u64(), /unexpected end of input/);
  });

  it('error records round-trip and unknown positions are rejected', async () => {
    const info = {
      level: 0,
      message: '\x1b[31;1merror:\x1b[0m it broke',
      traces: ['while doing x', 'while doing y'],
    };
    const bytes = new WireWriter().error(info).toBytes();
    assert.deepEqual(await new WireReader(pieces(bytes, 3)).error(), info);
    const withPos = Buffer.from(bytes);
    const posAt = 16 + 8 + 16 + 8 + 32; // after "Error", level, "Error", the 26-byte message
    withPos[posAt] = 1;
    await rejectsWire(new WireReader([withPos]).error(), /error positions are not supported at byte 80$/);
    await rejectsWire(
      new WireReader([new WireWriter().string('Oops').toBytes()]).error(),
      /expected an 'Error' record, got 'Oops'/,
    );
  });

  it('NARs inside a stream: exact consumption, BAD_NAR errors, narStream back-pressure and errors', async () => {
    const nar = await narFromBytesTree({
      type: 'directory',
      entries: {
        big: { type: 'regular', contents: new Uint8Array(300_000).fill(3) },
        l: { type: 'symlink', target: 'big' },
      },
    });
    const stream = new WireWriter().string('before').raw(nar).string('after').toBytes();
    const r = new WireReader(pieces(stream, 4096));
    assert.equal(await r.string(), 'before');
    let chunks = 0;
    const copy: Uint8Array[] = [];
    for await (const c of r.narStream()) {
      chunks++;
      copy.push(c.slice());
      await new Promise((res) => setImmediate(res)); // a slow consumer
    }
    assert.deepEqual(Buffer.concat(copy), Buffer.from(nar));
    assert.ok(chunks > 50);
    assert.equal(await r.string(), 'after');
    assert.ok(await r.atEnd());

    const broken = new WireWriter().raw(nar.subarray(0, 200)).toBytes();
    const br = new WireReader([broken]);
    await rejectsWire(collectBytes(br.narStream()), /cannot read NAR: unexpected end of input/, 'BAD_NAR');
    const nr = new WireReader([new WireWriter().string('not a nar').toBytes()]);
    await rejectsWire(nr.readNar(nullNarSink), /doesn't look like a Nix archive at byte 0$/, 'BAD_NAR');
  });

  it('framed streams: framed() splits at frameSize; an abandoned framedSource is drained', async () => {
    const data = new Uint8Array(100_000).map((_, i) => i & 0xff);
    const wire = await collectBytes(framed([data.subarray(0, 10), data.subarray(10)], { frameSize: 32768 }));
    assert.equal(wire.length, data.length + 8 * 5); // 32768 * 3 + 1696, then 0
    const r = new WireReader(
      pieces(new Uint8Array([...wire, ...new WireWriter().string('next').toBytes()]), 1000),
    );
    assert.deepEqual(await collectBytes(r.framedSource()), data);
    assert.equal(await r.string(), 'next');

    const r2 = new WireReader([wire, new WireWriter().string('next').toBytes()]);
    for await (const c of r2.framedSource()) {
      assert.ok(c.length > 0);
      break;
    }
    assert.equal(await r2.string(), 'next');
    await rejectsWire(
      collectBytes(new WireReader([new WireWriter().u64(5).raw(new Uint8Array(3)).toBytes()]).framedSource()),
      /unexpected end of input/,
    );
  });
});
