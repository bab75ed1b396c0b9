// Mutation fuzzing: every mutated input must parse or throw FormatError — never another exception,
// never a hang. Deterministic (seeded PRNG); TIX_SOAK=1 runs ten times as many cases.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { parseContentAddress } from './content-address.js';
import { parseDerivation, printDerivation } from './derivation.js';
import { derivationKind, derivationPath, hashDerivationModulo } from './derivation-hash.js';
import { derivationToJson, printDerivationsJson } from './derivation-json.js';
import { FormatError } from './errors.js';
import { parseHash } from './hash.js';
import { parseNarInfo } from './narinfo.js';
import { mulberry32 as prng } from './prng.js';
import { parseStorePath } from './store-path.js';
import { readVector, roundTripDrvVectors, vectorPath } from './test-vectors.js';

const SOAK = process.env.TIX_SOAK === '1';

function dictionary(): Uint8Array[] {
  const text = readVector('derivation/fuzz-seeds/derivations.dict').toString('utf8');
  const tokens = text
    .split('\n')
    .filter((l) => l.startsWith('"'))
    .map((l) => Buffer.from(JSON.parse(l) as string));
  for (const t of [
    '"',
    '\\',
    '(',
    ')',
    '[',
    ']',
    ',',
    '"",',
    '\\"',
    'r:sha256',
    'impure',
    '/nix/store/',
    '\n',
    'é',
  ]) {
    tokens.push(Buffer.from(t));
  }
  return tokens;
}

function mutate(seed: Uint8Array, rnd: () => number, dict: Uint8Array[]): Uint8Array {
  let b = Buffer.from(seed);
  const n = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rnd() * (b.length + 1));
    const op = Math.floor(rnd() * 7);
    if (op === 0 && b.length > 0) b[Math.min(at, b.length - 1)]! ^= 1 << Math.floor(rnd() * 8);
    else if (op === 1) b = b.subarray(0, at);
    else if (op === 2)
      b = Buffer.concat([b.subarray(0, at), Buffer.of(Math.floor(rnd() * 256)), b.subarray(at)]);
    else if (op === 3)
      b = Buffer.concat([b.subarray(0, at), dict[Math.floor(rnd() * dict.length)]!, b.subarray(at)]);
    else if (op === 4)
      b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + Math.floor(rnd() * 16)))]);
    else if (op === 5) {
      const len = Math.floor(rnd() * 64);
      b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
    } else if (b.length > 0)
      b[Math.min(at, b.length - 1)] = [0x22, 0x5c, 0x2c, 0x5b, 0x5d, 0x28, 0x29][Math.floor(rnd() * 7)]!;
  }
  return b;
}

function onlyFormatErrors(f: () => void, input: Uint8Array): 'ok' | 'rejected' {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof FormatError) return 'rejected';
    throw new Error(
      `non-FormatError on input ${JSON.stringify(Buffer.from(input).toString('latin1').slice(0, 300))}: ${e}`,
    );
  }
}

test('mutated .drv files parse or throw FormatError (≥ 10,000 cases)', { timeout: 120_000 }, () => {
  const seeds: Uint8Array[] = roundTripDrvVectors().map(({ file }) => readVector(file));
  for (const f of readdirSync(vectorPath('derivation/fuzz-seeds')).filter((f) => f.endsWith('.drv'))) {
    seeds.push(readVector(`derivation/fuzz-seeds/${f}`));
  }
  seeds.push(readVector('derivation/hello.drv'));
  const dict = dictionary();
  const rnd = prng(0x7153);
  const total = SOAK ? 120_000 : 12_000;
  const counts = { ok: 0, rejected: 0 };
  const t0 = performance.now();
  let slowest = 0;
  for (let i = 0; i < total; i++) {
    const input = mutate(seeds[i % seeds.length]!, rnd, dict);
    const c0 = performance.now();
    const r = onlyFormatErrors(() => {
      const drv = parseDerivation(input, { name: 'fuzz', path: `case ${i}` });
      const text = printDerivation(drv);
      printDerivation(drv, { maskOutputs: true });
      assert.equal(typeof text, 'string');
      derivationKind(drv);
      derivationPath(drv, '/nix/store');
      hashDerivationModulo(drv, {
        maskOutputs: true,
        inputHash: () => parseHash(`sha256:${'0'.repeat(64)}`),
      });
      derivationToJson('/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-fuzz.drv', drv);
      printDerivationsJson([['/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-fuzz.drv', drv]]);
    }, input);
    slowest = Math.max(slowest, performance.now() - c0);
    counts[r]++;
  }
  const ms = performance.now() - t0;
  assert.equal(counts.ok + counts.rejected, total);
  assert.ok(counts.ok > total / 50, `too few mutants parsed (${counts.ok}); the mutator is too destructive`);
  assert.ok(counts.rejected > total / 2, `too few mutants rejected (${counts.rejected})`);
  assert.ok(slowest < 500, `one case took ${slowest.toFixed(0)} ms`);
  assert.ok(SOAK || ms < 20_000, `fuzzing took ${ms.toFixed(0)} ms`);
});

test('mutated narinfo, hashes, store paths and content addresses throw only FormatError', () => {
  const rnd = prng(42);
  const dict = [':', ' ', '\n', '-', 'sha256', '/nix/store/', 'e', '='].map((s) => Buffer.from(s));
  const narinfo = readVector('worked/narinfo/420501dw8qf5s0sxmmkg6cs7awrbqsaw.narinfo');
  const strings = [
    Buffer.from('sha256:14ml5q1qvx7y3d0n2d1n0j2gdj4s0z54pfj6iwvgnn038ipybsgd'),
    Buffer.from('sha256-8OTC92xYkW7CWPJGhRvqCR0U1CR6L8PhhpRGGxgW4Ts='),
    Buffer.from('sha1:71b8c8a66a3c28f093e03a20d8671cbb2505654b'),
  ];
  const path = Buffer.from('/nix/store/hyqv6qj126byaw1aasq4rvxa1lr502fp-greeting.txt');
  const ca = Buffer.from('fixed:r:sha256:14ml5q1qvx7y3d0n2d1n0j2gdj4s0z54pfj6iwvgnn038ipybsgd');
  const n = SOAK ? 50_000 : 4_000;
  for (let i = 0; i < n; i++) {
    const a = mutate(narinfo, rnd, dict);
    onlyFormatErrors(() => parseNarInfo(Buffer.from(a).toString('utf8'), { storeDir: '/nix/store' }), a);
    const h = mutate(strings[i % strings.length]!, rnd, dict);
    onlyFormatErrors(() => parseHash(Buffer.from(h).toString('utf8')), h);
    const p = mutate(path, rnd, dict);
    onlyFormatErrors(() => parseStorePath(Buffer.from(p).toString('utf8'), '/nix/store'), p);
    const c = mutate(ca, rnd, dict);
    onlyFormatErrors(() => parseContentAddress(Buffer.from(c).toString('utf8')), c);
  }
});
