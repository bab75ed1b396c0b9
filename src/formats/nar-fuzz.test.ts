// Mutation fuzzing of the NAR parser: every input either parses (and then re-dumps to the
// identical bytes, since only canonical NARs are accepted) or fails with FormatError('BAD_NAR').
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FormatError } from './errors.js';
import { narFromBytesTree, narTreeSink, parseNar } from './nar.js';
import { mulberry32Int as prng } from './prng.js';

function vectorsDir(): string {
  if (process.env.TIX_VECTORS) return process.env.TIX_VECTORS;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return join(dir, '..', 'shared', 'vectors');
}

function corpus(): Uint8Array[] {
  const V = vectorsDir();
  const out: Uint8Array[] = [];
  for (const dir of ['nar', 'nar/fuzz-seeds', 'worked/nar']) {
    for (const f of readdirSync(join(V, dir)))
      if (f.endsWith('.nar')) out.push(readFileSync(join(V, dir, f)));
  }
  return out;
}

/** Tokens from vectors/nar/fuzz-seeds/nars.dict, framed as they appear in a NAR. */
function dictTokens(): Uint8Array[] {
  const text = readFileSync(join(vectorsDir(), 'nar/fuzz-seeds/nars.dict'), 'latin1');
  const toks: Uint8Array[] = [];
  for (const line of text.split('\n')) {
    const m = /^"(.*)"$/.exec(line);
    if (!m) continue;
    const raw = Buffer.from(
      m[1]!.replace(/\\x([0-9a-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    );
    const trimmed = raw.subarray(0, raw.indexOf(0) < 0 ? raw.length : raw.indexOf(0));
    const len = Buffer.alloc(8);
    len.writeUInt32LE(trimmed.length);
    toks.push(Buffer.concat([len, raw]), raw);
  }
  return toks;
}

function mutate(src: Uint8Array, rnd: (n: number) => number, toks: Uint8Array[]): Uint8Array {
  let b = Buffer.from(src);
  for (let k = 1 + rnd(3); k > 0; k--) {
    const at = b.length ? rnd(b.length) : 0;
    switch (rnd(8)) {
      case 0: // bit flip
        if (b.length) b[at]! ^= 1 << rnd(8);
        break;
      case 1: // random byte
        if (b.length) b[at] = rnd(256);
        break;
      case 2: // truncate
        b = b.subarray(0, at);
        break;
      case 3: // insert a dictionary token at an 8-byte boundary
        b = Buffer.concat([b.subarray(0, at & ~7), toks[rnd(toks.length)]!, b.subarray(at & ~7)]);
        break;
      case 4: // delete an 8-byte word
        b = Buffer.concat([b.subarray(0, at & ~7), b.subarray((at & ~7) + 8)]);
        break;
      case 5: // rewrite a length field
        if (b.length >= 8) {
          const w = Math.min(at & ~7, b.length - 8);
          const v = [0, 1, 7, 8, 255, 2 ** 32, 2 ** 53, 2 ** 63][rnd(8)]!;
          b.writeBigUInt64LE(BigInt(v) + BigInt(rnd(3)), w);
        }
        break;
      case 6: // duplicate a region
        b = Buffer.concat([
          b.subarray(0, at),
          b.subarray(at & ~7, (at & ~7) + 8 * (1 + rnd(12))),
          b.subarray(at),
        ]);
        break;
      default: // splice in a piece of another NAR
        b = Buffer.concat([b.subarray(0, at & ~7), b.subarray(rnd(b.length + 1) & ~7)]);
    }
  }
  return b;
}

async function* chunks(b: Uint8Array, rnd: (n: number) => number): AsyncGenerator<Uint8Array> {
  let i = 0;
  while (i < b.length) {
    const n = 1 + rnd(rnd(2) ? 9 : 400);
    yield b.subarray(i, i + n);
    i += n;
  }
}

it('NAR parser survives mutated inputs: success or FormatError, never anything else', async () => {
  const count = process.env.TIX_SOAK ? 200_000 : 10_000;
  const rnd = prng(0x7e57);
  const seeds = corpus();
  const toks = dictTokens();
  assert.ok(seeds.length >= 20 && toks.length >= 20);
  const started = Date.now();
  let ok = 0;
  let failed = 0;
  for (let i = 0; i < count; i++) {
    const input = mutate(seeds[rnd(seeds.length)]!, rnd, toks);
    const sink = narTreeSink();
    try {
      const { narSize } = await parseNar(chunks(input, rnd), sink);
      assert.equal(narSize, input.length);
      assert.deepEqual(
        Buffer.from(await narFromBytesTree(sink.root())),
        Buffer.from(input),
        'accepted a non-canonical NAR',
      );
      ok++;
    } catch (e) {
      if (!(e instanceof FormatError) || e.code !== 'BAD_NAR' || !/ at byte \d+$/.test(e.message)) {
        assert.fail(
          `case ${i}: unexpected ${e instanceof Error ? e.stack : e}\ninput: ${Buffer.from(input).toString('hex')}`,
        );
      }
      failed++;
    }
  }
  assert.equal(ok + failed, count);
  if (process.env.TIX_FUZZ_STATS) console.log({ ok, failed });
  assert.ok(ok > 0 && failed > 0, `ok ${ok}, failed ${failed}`);
  assert.ok(Date.now() - started < (process.env.TIX_SOAK ? 600_000 : 20_000), 'fuzzing took too long');
});
