import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RefScanner, scanForReferences } from './references.js';

function vectorsDir(): string {
  if (process.env.TIX_VECTORS) return process.env.TIX_VECTORS;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return join(dir, '..', 'shared', 'vectors');
}

const enc = new TextEncoder();
const H1 = 'z4asv3j07d89ywjf8fxkn7sg6mf5s9q5';
const H2 = 'hyqv6qj126byaw1aasq4rvxa1lr502fp';
const H3 = '0000000000000000000000000000000z';

function scanChunks(chunks: Uint8Array[], hashes: string[]): Set<string> {
  const s = new RefScanner(hashes);
  for (const c of chunks) s.update(c);
  return s.found();
}

describe('RefScanner', () => {
  it('finds bare hash parts, with or without a store prefix, inside longer nix32 runs', () => {
    const text = `x /nix/store/${H1}-dep y aaaa${H2}bbbb`;
    assert.deepEqual(scanChunks([enc.encode(text)], [H1, H2, H3]), new Set([H1, H2]));
    assert.deepEqual(scanChunks([enc.encode(`${H1.slice(0, 31)}-`)], [H1]), new Set());
    assert.deepEqual(scanChunks([enc.encode(H1.replace('z', 'e'))], [H1]), new Set());
    assert.deepEqual(scanChunks([enc.encode(H3.repeat(3))], [H3]), new Set([H3]));
  });

  it('finds a hash split across two chunks at every position', () => {
    const data = enc.encode(`\0\u0001garbage:${H1}:more\n`);
    for (let cut = 0; cut <= data.length; cut++) {
      assert.deepEqual(
        scanChunks([data.subarray(0, cut), data.subarray(cut)], [H1, H2]),
        new Set([H1]),
        `cut ${cut}`,
      );
    }
  });

  it('finds hashes spread over many tiny chunks (1 to 40 bytes) and in binary noise', () => {
    let seed = 1;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const noise = new Uint8Array(200_000).map(() => rnd(256));
    noise.set(enc.encode(H2), 123_457);
    noise.set(enc.encode(H1), 199_968);
    for (const max of [1, 2, 7, 31, 32, 33, 40, 65536]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < noise.length; ) {
        const n = 1 + rnd(max);
        chunks.push(noise.subarray(i, i + n));
        i += n;
      }
      assert.deepEqual(scanChunks(chunks, [H1, H2, H3]), new Set([H1, H2]), `chunks up to ${max}`);
    }
  });

  it('rejects candidates that are not nix32 hash parts', () => {
    assert.throws(() => new RefScanner(['tooshort']));
    assert.throws(() => new RefScanner([H1.replace('z', 'e')]));
  });

  it('scans 64 MiB of nix32-heavy text quickly', () => {
    const s = new RefScanner([H1, H2]);
    const block = enc.encode('abcdfghijklmnpqrsvwxyz0123456789'.repeat(2048));
    const started = performance.now();
    for (let i = 0; i < 1024; i++) s.update(block);
    const ms = performance.now() - started;
    assert.deepEqual(s.found(), new Set());
    assert.ok(ms < 5000, `took ${ms} ms`);
  });
});

describe('RefScanner against references recorded by Nix 2.8.0', () => {
  // The `none` binary cache holds four NARs with the References Nix computed when building them.
  const cache = join(vectorsDir(), 'binary-cache-nix-2.8', 'none');
  const infos = readdirSync(cache)
    .filter((f) => f.endsWith('.narinfo'))
    .map((f) => {
      const text = readFileSync(join(cache, f), 'utf8');
      const field = (k: string) => new RegExp(`^${k}: ?(.*)$`, 'm').exec(text)![1]!;
      return {
        hashPart: f.slice(0, 32),
        url: field('URL'),
        refs: field('References')
          .split(' ')
          .filter((r) => r)
          .map((r) => r.slice(0, 32)),
      };
    });
  // Candidates: every path in the cache, the fixed-output input, plus a valid but unrelated path.
  const candidates = [
    ...infos.map((i) => i.hashPart),
    'a17ah642xc653fw8pfw4kxqcgzjm5qi0',
    'vj560xbrqv9ps9b0ypgmsvjdmylg20y1',
  ];
  for (const info of infos) {
    it(`${info.hashPart}: found references = narinfo References`, async () => {
      const nar = readFileSync(join(cache, info.url));
      async function* pieces() {
        for (let i = 0; i < nar.length; i += 37) yield nar.subarray(i, i + 37);
      }
      assert.deepEqual(await scanForReferences(pieces(), candidates), new Set(info.refs));
    });
  }
  it('covers a self-reference and a path with no references', () => {
    assert.ok(infos.some((i) => i.refs.includes(i.hashPart)));
    assert.ok(infos.some((i) => i.refs.length === 0));
  });
});
