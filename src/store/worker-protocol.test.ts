// Worker-protocol codec against the upstream vectors (worker-protocol/) and the Nix 2.8 captures.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseHash, printHash } from '../formats/hash.js';
import { readVector, vectorPath } from '../formats/test-vectors.js';
import { WireReader, WireWriter } from '../formats/wire.js';
import type { DerivedPath } from './store.js';
import {
  parseDerivedPath,
  printDerivedPath,
  readBuildResult,
  readValidPathInfo,
  writeBuildResult,
  writeValidPathInfo,
} from './worker-protocol.js';

const SD = '/nix/store';
const json = (rel: string) => JSON.parse(readFileSync(vectorPath(rel), 'utf8'));

test('ValidPathInfo 1.15 and 1.16 decode to the JSON and re-encode byte for byte', async () => {
  for (const [file, minor] of [
    ['valid-path-info-1.15', 15],
    ['valid-path-info-1.16', 16],
  ] as const) {
    const bin = readVector(`worker-protocol/${file}.bin`);
    const expected = json(`worker-protocol/${file}.json`) as Record<string, unknown>[];
    const inp = new WireReader([bin]);
    const out = new WireWriter();
    for (const e of expected) {
      const info = await readValidPathInfo(inp, minor, { storeDir: SD });
      assert.equal(info.path, `${SD}/${e.path}`);
      assert.equal(info.deriver, e.deriver ? `${SD}/${e.deriver}` : undefined);
      assert.equal(info.narHash, printHash(parseHash(e.narHash as string), 'base16', { prefix: true }));
      assert.equal(info.narSize, e.narSize);
      assert.deepEqual(
        info.references,
        (e.references as string[]).map((r) => `${SD}/${r}`),
      );
      assert.equal(info.registrationTime, e.registrationTime);
      if (minor >= 16) {
        assert.equal(info.ultimate, e.ultimate);
        assert.equal(info.sigs.length, (e.signatures as unknown[]).length);
      }
      writeValidPathInfo(out, info, minor, { keyed: true });
    }
    assert.ok(await inp.atEnd(), `${file}: trailing bytes`);
    assert.deepEqual(Buffer.from(out.toBytes()), bin, `${file}: re-encoding differs`);
  }
});

test('BuildResult 1.28 and 1.29 decode and re-encode byte for byte', async () => {
  const statuses = [
    'Built',
    'Substituted',
    'AlreadyValid',
    'PermanentFailure',
    'InputRejected',
    'OutputRejected',
    'TransientFailure',
    'CachedFailure',
    'TimedOut',
    'MiscFailure',
    'DependencyFailed',
    'LogLimitExceeded',
    'NotDeterministic',
    'ResolvesToAlreadyValid',
    'NoSubstituters',
  ];
  for (const [file, minor] of [
    ['build-result-1.28', 28],
    ['build-result-1.29', 29],
  ] as const) {
    const bin = readVector(`worker-protocol/${file}.bin`);
    const expected = json(`worker-protocol/${file}.json`) as Record<string, unknown>[];
    const inp = new WireReader([bin]);
    const out = new WireWriter();
    for (const e of expected) {
      const r = await readBuildResult(inp, minor, SD);
      assert.equal(r.status, statuses.indexOf(e.status as string));
      assert.equal(r.errorMsg, e.errorMsg ?? '');
      if (minor >= 29) {
        assert.equal(r.timesBuilt, e.timesBuilt);
        assert.equal(r.startTime, e.startTime);
      }
      const outs = (e.builtOutputs ?? {}) as Record<string, { id: string; outPath: string }>;
      assert.deepEqual(
        Object.fromEntries(r.builtOutputs),
        Object.fromEntries(Object.entries(outs).map(([k, v]) => [k, `${SD}/${v.outPath}`])),
      );
      writeBuildResult(out, r, minor, (name) => outs[name]!.id);
    }
    assert.ok(await inp.atEnd());
    assert.deepEqual(Buffer.from(out.toBytes()), bin, `${file}: re-encoding differs`);
  }
});

test('DerivedPath strings for 1.29 and 1.30 clients', async () => {
  const drv = `${SD}/g1w7hy3qg1w7hy3qg1w7hy3qg1w7hy3q-bar.drv`;
  const foo = `${SD}/g1w7hy3qg1w7hy3qg1w7hy3qg1w7hy3q-foo`;
  const cases: [number, DerivedPath[]][] = [
    [
      29,
      [
        { kind: 'opaque', path: foo },
        { kind: 'built', drvPath: drv, outputs: ['*'] },
        { kind: 'built', drvPath: drv, outputs: ['x', 'y'] },
      ],
    ],
    [
      30,
      [
        { kind: 'opaque', path: foo },
        { kind: 'opaque', path: `${foo}.drv` },
        { kind: 'built', drvPath: drv, outputs: ['*'] },
        { kind: 'built', drvPath: drv, outputs: ['x', 'y'] },
      ],
    ],
  ];
  for (const [minor, paths] of cases) {
    const bin = readVector(`worker-protocol/derived-path-1.${minor}.bin`);
    const inp = new WireReader([bin]);
    for (const p of paths) {
      const s = await inp.string();
      assert.deepEqual(parseDerivedPath(s, minor, SD), p);
      assert.equal(printDerivedPath(p, minor), s);
    }
    assert.ok(await inp.atEnd());
  }
  assert.throws(() => parseDerivedPath(`${foo}!out`, 30, SD), /not a derivation/);
  assert.throws(() => parseDerivedPath('/tmp/x', 30, SD), /not in the Nix store/);
});

test('the 2.8 QueryPathInfo reply capture decodes completely', async () => {
  const bin = readVector('captures-nix-2.8/worker-querypathinfo-reply.bin');
  const inp = new WireReader([bin]);
  assert.equal(await inp.u64(), 0x616c7473);
  assert.equal(await inp.bool(), true);
  const path = `${SD}/rrbxlpzcalpix12vfflv7whqy53qb2h7-nix-remote-probe`;
  const info = await readValidPathInfo(inp, 34, { storeDir: SD, path });
  assert.equal(info.narHash, 'sha256:1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13');
  assert.equal(info.narSize, 120);
  assert.equal(info.deriver, `${SD}/q0h071q09mba7xx446jvspv903g365pq-nix-remote-probe.drv`);
  assert.equal(info.ultimate, true);
  assert.ok(await inp.atEnd());
  const out = new WireWriter().u64(0x616c7473).bool(true);
  writeValidPathInfo(out, info, 34, { keyed: false });
  assert.deepEqual(Buffer.from(out.toBytes()), bin);
});
