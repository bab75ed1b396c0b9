import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { hashBytes, hashEquals } from '../formats/hash.js';
import { parseNarInfo } from '../formats/narinfo.js';
import { COMPRESSION_METHODS, compress, decompress, narFileExtension } from './compression.js';
import { isStoreError } from './errors.js';

const VECTORS = '/work/shared/vectors/binary-cache-nix-2.8';
const TINYDIR = readFileSync('/work/shared/vectors/worked/nar/tinydir.nar');

async function* chunks(b: Uint8Array, size = 7): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

describe('compression', () => {
  it('names extensions as Nix 2.8 does (gzip gets none)', () => {
    assert.deepEqual(
      COMPRESSION_METHODS.map((m) => narFileExtension(m)),
      ['', '.xz', '.zst', '.bz2', '', '.br', '.lz4', '.lzip'],
    );
  });

  for (const method of COMPRESSION_METHODS) {
    it(`decompresses every NAR Nix 2.8 wrote with ${method} to its NarHash`, async () => {
      const dir = join(VECTORS, method);
      const infos = readdirSync(dir).filter((f) => f.endsWith('.narinfo'));
      assert.ok(infos.length > 0);
      for (const f of infos) {
        const info = parseNarInfo(readFileSync(join(dir, f), 'utf8'), { storeDir: '/nix/store' });
        assert.equal(info.compression, method);
        const nar = await collect(
          decompress(method, chunks(readFileSync(join(dir, info.url)), 13), info.url),
        );
        assert.equal(nar.length, info.narSize);
        assert.ok(hashEquals(hashBytes('sha256', nar), info.narHash), `${method}/${f}`);
        if (info.storePath.endsWith('-tinydir')) assert.deepEqual(nar, TINYDIR);
      }
    });
  }

  for (const method of COMPRESSION_METHODS) {
    it(`round-trips 3 MiB through ${method} in small chunks`, async () => {
      const data = Buffer.concat([randomBytes(1 << 20), Buffer.alloc(2 << 20, 'nix')]);
      const packed = await collect(compress(method, chunks(data, 100_000)));
      if (method !== 'none') assert.ok(packed.length < data.length, 'compressed is smaller');
      assert.deepEqual(await collect(decompress(method, chunks(packed, 65_536), 'x')), data);
    });
  }

  for (const method of ['xz', 'zstd', 'gzip', 'br'] as const) {
    it(`rejects corrupt ${method} data with a StoreError naming the file`, async () => {
      await assert.rejects(
        collect(decompress(method, chunks(Buffer.from('definitely not compressed data')), 'nar/bad.nar')),
        (e) => {
          assert.ok(isStoreError(e, 'BAD_COMPRESSION'), String(e));
          assert.match((e as Error).message, /^cannot decompress 'nar\/bad\.nar' \(/);
          return true;
        },
      );
    });
  }

  it('passes an input error through and stops the tool', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.alloc(1000);
      throw new Error('source broke');
    }
    await assert.rejects(collect(compress('zstd', failing())), /source broke/);
  });

  it('can be abandoned part-way without hanging', async () => {
    const big = Buffer.alloc(8 << 20, 1);
    const packed = await collect(compress('xz', chunks(big, 1 << 20)));
    for await (const _ of decompress('xz', chunks(packed, 4096), 'x')) break;
  });
});
