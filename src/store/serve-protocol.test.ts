import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDerivation } from '../formats/derivation.js';
import { readVector } from '../formats/test-vectors.js';
import { WireReader, WireWriter } from '../formats/wire.js';
import {
  DEFAULT_BUILD_OPTIONS,
  drvOutputId,
  readAddToStoreNarHeader,
  readBasicDerivation,
  readBuildOptions,
  readBuildResult,
  readServePathInfo,
  SERVE_MAGIC_1,
  SERVE_MAGIC_2,
  ServeOp,
  writeAddToStoreNarHeader,
  writeBasicDerivation,
  writeBuildOptions,
  writeBuildResult,
  writeServePathInfo,
} from './serve-protocol.js';

const CAP = 'captures-nix-2.8';
const wireOf = (rel: string) => new WireReader([new Uint8Array(readVector(rel))]);
const probe4Drv = '/nix/store/hxksjx12i78hiic929ckc0qw7n9ai28i-nix-remote-probe4.drv';

async function assertConsumed(inp: WireReader): Promise<void> {
  assert.equal(await inp.atEnd(), true, `trailing bytes at ${inp.position}`);
}

test('BuildOptions vectors 2.1/2.2/2.3/2.7 decode and re-encode byte-exactly', async () => {
  const want = {
    maxSilentTime: 5,
    buildTimeout: 6,
    maxLogSize: 7,
    nrRepeats: 8,
    enforceDeterminism: false,
    keepFailed: true,
  };
  for (const [v, rel] of [
    [0x201, 'build-options-2.1.bin'],
    [0x202, 'build-options-2.2.bin'],
    [0x203, 'build-options-2.3.bin'],
    [0x207, 'build-options-2.7.bin'],
  ] as const) {
    const inp = wireOf(`serve-protocol/${rel}`);
    const got = await readBuildOptions(inp, v);
    await assertConsumed(inp);
    assert.equal(got.maxSilentTime, 5);
    assert.equal(got.buildTimeout, 6);
    if (v >= 0x202) assert.equal(got.maxLogSize, 7);
    if (v >= 0x203) assert.equal(got.nrRepeats, 8);
    if (v >= 0x207) assert.equal(got.keepFailed, true);
    // The upstream test uses enforceDeterminism = true at 2.3 and false (with keepFailed) at 2.7.
    if (v === 0x203) assert.equal(got.enforceDeterminism, true);
    const out = new WireWriter();
    writeBuildOptions(out, { ...want, enforceDeterminism: v === 0x203 }, v);
    assert.deepEqual(Buffer.from(out.toBytes()), readVector(`serve-protocol/${rel}`));
  }
});

test('BuildResult vectors 2.2/2.3/2.6 decode', async () => {
  const r22 = wireOf('serve-protocol/build-result-2.2.bin');
  const a = await readBuildResult(r22, 0x202, '/nix/store');
  assert.equal(a.status, 5);
  assert.equal(a.errorMsg, 'no idea why');
  const b = await readBuildResult(r22, 0x202, '/nix/store');
  assert.equal(b.status, 12);
  const c = await readBuildResult(r22, 0x202, '/nix/store');
  assert.equal(c.status, 0);
  await assertConsumed(r22);

  const r23 = wireOf('serve-protocol/build-result-2.3.bin');
  const results23 = [];
  for (let i = 0; i < 3; i++) results23.push(await readBuildResult(r23, 0x203, '/nix/store'));
  await assertConsumed(r23);
  assert.deepEqual(
    results23.map((r) => [r.status, r.timesBuilt, r.isNonDeterministic, r.startTime, r.stopTime]),
    [
      [5, 0, false, 0, 0],
      [12, 3, true, 30, 50],
      [0, 0, false, 30, 50],
    ],
  );

  const r26 = wireOf('serve-protocol/build-result-2.6.bin');
  for (let i = 0; i < 2; i++) await readBuildResult(r26, 0x206, '/nix/store');
  const built = await readBuildResult(r26, 0x206, '/nix/store');
  await assertConsumed(r26);
  assert.equal(built.timesBuilt, 1);
  assert.deepEqual(
    [...built.builtOutputs],
    [
      ['bar', '/nix/store/g1w7hy3qg1w7hy3qg1w7hy3qg1w7hy3q-bar'],
      ['foo', '/nix/store/g1w7hy3qg1w7hy3qg1w7hy3qg1w7hy3q-foo'],
    ],
  );
});

test('UnkeyedValidPathInfo 2.3/2.4 vectors decode and re-encode', async () => {
  const v24 = wireOf('serve-protocol/unkeyed-valid-path-info-2.4.bin');
  const x = await readServePathInfo(v24, '/nix/store/x', 0x204);
  const y = await readServePathInfo(v24, '/nix/store/y', 0x204);
  await assertConsumed(v24);
  assert.equal(x.deriver, '/nix/store/g1w7hy3qg1w7hy3qg1w7hy3qg1w7hy3q-bar.drv');
  assert.equal(x.narSize, 34878);
  assert.equal(x.narHash, 'sha256:15e3c560894cbb27085cf65b5a2ecb18488c999497f4531b6907a7581ce6d527');
  assert.equal(y.ca, 'fixed:r:sha256:1lr187v6dck1rjh2j6svpikcfz53wyl3qrlcbb405zlh13x0khhh');
  assert.equal(y.sigs.length, 2);
  const out = new WireWriter();
  writeServePathInfo(out, x, 0x204);
  writeServePathInfo(out, y, 0x204);
  assert.deepEqual(Buffer.from(out.toBytes()), readVector('serve-protocol/unkeyed-valid-path-info-2.4.bin'));

  const v23 = wireOf('serve-protocol/unkeyed-valid-path-info-2.3.bin');
  const p = await readServePathInfo(v23, '/nix/store/p', 0x203);
  const q = await readServePathInfo(v23, '/nix/store/q', 0x203);
  await assertConsumed(v23);
  assert.equal(p.narHash, '');
  assert.deepEqual(q.references, ['/nix/store/g1w7hyyyy1w7hy3qg1w7hy3qgqqqqy3q-foo.drv']);
});

test('QueryPathInfos reply capture decodes and re-encodes', async () => {
  const rel = `${CAP}/serve-querypathinfos-reply-client-v2.7.bin`;
  const inp = wireOf(rel);
  const path = await inp.string();
  const info = await readServePathInfo(inp, path, 0x207);
  assert.equal(await inp.string(), '');
  await assertConsumed(inp);
  assert.equal(info.narSize, 408);
  assert.equal(info.ca, 'text:sha256:0xnxvbrwrw968mvsc2r8iv9q7pgy4jqzz77csspd3c7y83akd2hg');
  const out = new WireWriter().string(path);
  writeServePathInfo(out, info, 0x207);
  out.string('');
  assert.deepEqual(Buffer.from(out.toBytes()), readVector(rel));
});

test('hook capture: BuildDerivation request and BuildResult reply round-trip', async () => {
  const c2s = wireOf(`${CAP}/hook-ssh-serve-c2s.bin`);
  assert.equal(await c2s.u64(), SERVE_MAGIC_1);
  assert.equal(await c2s.u64(), 0x207);
  assert.equal(await c2s.u64(), ServeOp.QueryValidPaths);
  assert.deepEqual([await c2s.u64(), await c2s.u64(), await c2s.strings()], [0, 0, []]);
  assert.equal(await c2s.u64(), ServeOp.BuildDerivation);
  const drvPath = await c2s.string();
  assert.equal(drvPath, probe4Drv);
  const drv = await readBasicDerivation(c2s, drvPath);
  const opts = await readBuildOptions(c2s, 0x207);
  await assertConsumed(c2s);
  assert.equal(drv.name, 'nix-remote-probe4');
  assert.deepEqual(opts, { ...DEFAULT_BUILD_OPTIONS });

  // Re-encode the whole client stream.
  const out = new WireWriter().u64(SERVE_MAGIC_1).u64(0x207).u64(1).u64(0).u64(0).strings([]);
  out.u64(ServeOp.BuildDerivation).string(drvPath);
  writeBasicDerivation(out, drv);
  writeBuildOptions(out, opts, 0x207);
  assert.deepEqual(Buffer.from(out.toBytes()), readVector(`${CAP}/hook-ssh-serve-c2s.bin`));

  // The drv parsed from its ATerm gives the same DrvOutput id as the real server sent.
  const aterm = readVector(`${CAP}/derivations/hxksjx12i78hiic929ckc0qw7n9ai28i-nix-remote-probe4.drv`);
  const full = parseDerivation(aterm, { name: 'nix-remote-probe4' });
  assert.equal(
    drvOutputId(full, 'out', '/nix/store'),
    'sha256:cdf4a2097e8c2b2e9fe4a914b7cf190e0612c2072a37fe79c0834eadc0955438!out',
  );

  const s2c = wireOf(`${CAP}/hook-ssh-serve-s2c.bin`);
  assert.deepEqual([await s2c.u64(), await s2c.u64(), await s2c.strings()], [SERVE_MAGIC_2, 0x207, []]);
  const result = await readBuildResult(s2c, 0x207, '/nix/store');
  await assertConsumed(s2c);
  assert.equal(result.status, 0);
  assert.equal(result.timesBuilt, 1);
  assert.deepEqual(
    [...result.builtOutputs],
    [['out', '/nix/store/pjca4k4wz2sqfnl7avs913lzwn7q6y23-nix-remote-probe4']],
  );
  const reply = new WireWriter().u64(SERVE_MAGIC_2).u64(0x207).strings([]);
  writeBuildResult(reply, result, { version: 0x207, drv, storeDir: '/nix/store' });
  assert.deepEqual(Buffer.from(reply.toBytes()), readVector(`${CAP}/hook-ssh-serve-s2c.bin`));
});

test('failed BuildDerivation reply capture round-trips with an empty map', async () => {
  const rel = `${CAP}/serve-buildderivation-fail-reply-client-v2.7.bin`;
  const r = await readBuildResult(wireOf(rel), 0x207, '/nix/store');
  assert.equal(r.status, 3);
  assert.match(r.errorMsg, /failed with exit code 3/);
  const drv = {
    name: 'x',
    outputs: new Map(),
    inputSrcs: [],
    system: 'x86_64-linux',
    builder: '/bin/sh',
    args: [],
    env: new Map(),
  };
  const out = new WireWriter();
  writeBuildResult(out, r, { version: 0x207, drv, storeDir: '/nix/store' });
  assert.deepEqual(Buffer.from(out.toBytes()), readVector(rel));
});

test('AddToStoreNar header from the nix copy capture round-trips (base16 narHash)', async () => {
  const rel = `${CAP}/nixcopy-ssh-serve-c2s.bin`;
  const inp = wireOf(rel);
  for (let i = 0; i < 5; i++) await inp.u64();
  await inp.strings();
  assert.equal(await inp.u64(), ServeOp.AddToStoreNar);
  const start = inp.position;
  const info = await readAddToStoreNarHeader(inp);
  assert.equal(info.narHash, 'sha256:1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13');
  assert.equal(info.narSize, 120);
  assert.equal(info.registrationTime, 1795546624);
  const out = new WireWriter();
  writeAddToStoreNarHeader(out, info);
  assert.deepEqual(Buffer.from(out.toBytes()), readVector(rel).subarray(start, inp.position));
});
