import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ByteReader } from './byte-reader.js';
import { FormatError } from './errors.js';
import {
  collectBytes,
  dumpNar,
  type NarTree,
  narFromBytesTree,
  narSourceFromTree,
  narTreeSink,
  nullNarSink,
  parseNar,
  parseNarFrom,
} from './nar.js';

function vectorsDir(): string {
  if (process.env.TIX_VECTORS) return process.env.TIX_VECTORS;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return join(dir, '..', 'shared', 'vectors');
}
const V = vectorsDir();
const read = (rel: string) => new Uint8Array(readFileSync(join(V, rel)));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function* chunked(b: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function parseTree(b: Uint8Array, chunkSize = 1 << 20): Promise<NarTree> {
  const sink = narTreeSink();
  const { narSize } = await parseNar(chunked(b, chunkSize), sink);
  assert.equal(narSize, b.length);
  return sink.root();
}

async function parseError(b: Uint8Array): Promise<FormatError> {
  try {
    await parseNar(chunked(b, 1 << 20), narTreeSink());
  } catch (e) {
    assert.ok(e instanceof FormatError, `expected FormatError, got ${e}`);
    assert.equal(e.code, 'BAD_NAR');
    assert.match(e.message, / at byte \d+$/);
    return e;
  }
  assert.fail('parse succeeded');
}

describe('NAR parser: upstream vectors/nar cases', () => {
  const failures: [string, RegExp, number][] = [
    ['invalid-tag-instead-of-contents', /expected tag 'contents', got 'AAAAAAAA' at byte 72$/, 72],
    ['nul-character', /invalid file name 'f\0o' at byte 128$/, 128],
    ['dot', /invalid file name '\.' at byte 128$/, 128],
    ['dotdot', /invalid file name '\.\.' at byte 128$/, 128],
    ['slash', /invalid file name 'x\/y' at byte 128$/, 128],
    ['empty', /invalid file name '' at byte 128$/, 128],
    ['executable-after-contents', /expected tag '\)', got 'executable' at byte 240$/, 240],
    ['name-after-node', /expected tag 'name', got 'node' at byte 112$/, 112],
    ['regular-one-byte-non-zero-padding', /non-zero padding at byte 97$/, 97],
    ['regular-truncated-large-contents', /too large at byte 88$/, 88],
    ['regular-truncated-padding', /unexpected end of input/, 100],
  ];
  for (const [name, re] of failures) {
    it(`rejects ${name}`, async () => {
      const e = await parseError(read(`nar/${name}.nar`));
      assert.match(e.message, re);
    });
  }

  it('regular-one-byte-zero-padding parses and consumes exactly 120 bytes', async () => {
    const nar = read('nar/regular-one-byte-zero-padding.nar');
    assert.deepEqual(await parseTree(nar), {
      type: 'regular',
      executable: false,
      contents: new Uint8Array([0x78]),
    });
    const withTail = new Uint8Array([...nar, 1, 2, 3, 4, 5, 6, 7, 8]);
    const r = new ByteReader(chunked(withTail, 5), 'BAD_WIRE', 'test stream');
    assert.deepEqual(await parseNarFrom(r, nullNarSink), { narSize: 120 });
    assert.equal(r.position, 120);
    assert.equal(await r.u64big(), 0x0807060504030201n);
    await assert.rejects(
      parseNar(chunked(withTail, 64), nullNarSink),
      /trailing data after the end of the NAR at byte 120/,
    );
    assert.deepEqual(await parseNar(chunked(withTail, 64), nullNarSink, { allowTrailing: true }), {
      narSize: 120,
    });
  });

  it('closes the input generator when parsing fails', async () => {
    let closed = false;
    async function* input() {
      try {
        yield read('nar/dot.nar');
        yield new Uint8Array(1000);
      } finally {
        closed = true;
      }
    }
    await assert.rejects(parseNar(input(), nullNarSink), /invalid file name '\.'/);
    assert.ok(closed);
  });

  it('rejects unsorted and duplicate directory entries', async () => {
    const nar = await narFromBytesTree({
      type: 'directory',
      entries: { a: { type: 'regular', contents: '1' }, b: { type: 'regular', contents: '2' } },
    });
    const swapped = Buffer.from(nar);
    const i = swapped.indexOf(Buffer.from('\x01\0\0\0\0\0\0\0a\0\0\0\0\0\0\0', 'latin1'));
    const j = swapped.indexOf(Buffer.from('\x01\0\0\0\0\0\0\0b\0\0\0\0\0\0\0', 'latin1'));
    swapped[i + 8] = 0x62;
    swapped[j + 8] = 0x61;
    assert.match((await parseError(swapped)).message, /not sorted \('a' after 'b'\) at byte \d+/);
    swapped[i + 8] = 0x61;
    assert.match((await parseError(swapped)).message, /duplicate name 'a'/);
  });

  it('rejects bad magic, unknown types, bad executable marker, empty symlink target', async () => {
    const good = read('worked/nar/tinydir.nar');
    const bad = Buffer.from(good);
    bad[8] = 0x4d; // 'Mix-archive-1'
    assert.match((await parseError(bad)).message, /doesn't look like a Nix archive at byte 0$/);
    assert.match((await parseError(new Uint8Array(0))).message, /doesn't look like a Nix archive at byte 0$/);
    const t = Buffer.from(good);
    t.write('symlinq', 0x188, 'latin1');
    assert.match((await parseError(t)).message, /unknown file type 'symlinq' at byte 384$/);
    const x = Buffer.from(good);
    x[0x268] = 1; // the executable marker's value becomes the 1-byte string '\x08'
    assert.match((await parseError(x)).message, /executable marker has non-empty value at byte 616$/);
    const e = Buffer.from(good);
    e[0x1a0] = 0; // symlink target length 5 -> 0; the following bytes no longer line up
    await parseError(e);
    const sym = await narFromBytesTree({ type: 'symlink', target: 'x' });
    const empty = Buffer.from(sym);
    empty[empty.indexOf(Buffer.from('target')) + 8] = 0;
    empty.fill(0, empty.length - 32, empty.length - 24);
    await parseError(empty);
  });

  it('accepts the positive fuzz seeds and round-trips them byte for byte', async () => {
    for (const name of ['simple', 'empty-dir', 'empty-subdir', 'case', 'case-collision']) {
      const nar = read(`nar/fuzz-seeds/${name}.nar`);
      const tree = await parseTree(nar, 13);
      assert.deepEqual(await narFromBytesTree(tree), nar, name);
    }
  });
});

describe('NAR: worked examples from Nix 2.8.0', () => {
  const worked: [string, string][] = [
    ['greeting.txt', 'ede9e56f440358fb368f46ba4bca079ac8f68404363461411bfef48d032eb492'],
    ['tinydir', '56800b95f7b57cf33e8b2073a03f055637989654b107be67df902a95bead8ec6'],
    ['orderdir', 'bd5370f353355e43dfb54fdd404b2621399da82eb2ec9b3cc73bf16f136cc5e2'],
  ];
  for (const [name, hash] of worked) {
    it(`${name}.nar: hash, parse (any chunking) and dump round trip`, async () => {
      const nar = read(`worked/nar/${name}.nar`);
      assert.equal(sha256(nar), hash);
      const tree = await parseTree(nar);
      for (const size of [1, 3, 8, 100]) assert.deepEqual(await parseTree(nar, size), tree);
      assert.deepEqual(await narFromBytesTree(tree), nar);
    });
  }

  it('dumps tinydir from an in-memory tree exactly as Nix does', async () => {
    const tree: NarTree = {
      type: 'directory',
      entries: {
        run: { type: 'regular', executable: true, contents: '#!/bin/sh\n' },
        link: { type: 'symlink', target: 'a.txt' },
        'a.txt': { type: 'regular', contents: 'A\n' },
      },
    };
    assert.deepEqual(await narFromBytesTree(tree), read('worked/nar/tinydir.nar'));
  });

  it('sorts names by UTF-8 bytes, not UTF-16 code units', async () => {
    const names = ['é', 'a.b', 'a-b', 'a', '_', 'B'];
    const tree: NarTree = { type: 'directory', entries: {} };
    for (const n of names) tree.entries[n] = { type: 'regular', contents: '\n' };
    assert.deepEqual(await narFromBytesTree(tree), read('worked/nar/orderdir.nar'));
    // U+FF61 sorts before U+1F600 in UTF-16 (0xFF61 < 0xD83D? no: 0xD83D < 0xFF61) but after it in UTF-8.
    const t2: NarTree = {
      type: 'directory',
      entries: {
        '\u{ff61}': { type: 'symlink', target: 'x' },
        '\u{1f600}': { type: 'symlink', target: 'y' },
      },
    };
    const back = await parseTree(await narFromBytesTree(t2));
    assert.deepEqual(Object.keys((back as { entries: object }).entries), ['\u{ff61}', '\u{1f600}']);
  });
});

describe('NAR dump', () => {
  it('rejects files whose contents disagree with their size', async () => {
    const src = narSourceFromTree({ type: 'regular', contents: 'abc' });
    const lying = {
      async stat(p: string) {
        const e = await src.stat(p);
        return e.type === 'regular' ? { ...e, size: 4 } : e;
      },
    };
    await assert.rejects(
      collectBytes(dumpNar(lying)),
      (e: unknown) => e instanceof FormatError && e.code === 'BAD_NAR',
    );
    const bad = { stat: async () => ({ type: 'directory' as const, entries: async () => ['..'] }) };
    await assert.rejects(collectBytes(dumpNar(bad)), /invalid file name '\.\.'/);
  });

  it('streams a 64 MiB file in big chunks without copying it', async () => {
    const piece = new Uint8Array(1 << 20).fill(7);
    const size = 64 * (1 << 20);
    const source = {
      stat: async () => ({
        type: 'regular' as const,
        executable: false,
        size,
        contents: async function* () {
          for (let i = 0; i < 64; i++) yield piece;
        },
      }),
    };
    let total = 0;
    let passed = 0;
    const h = createHash('sha256');
    for await (const c of dumpNar(source)) {
      total += c.length;
      if (c === piece) passed++;
      h.update(c);
    }
    assert.equal(total, size + 96 + 16);
    assert.equal(passed, 64);
    const expected = createHash('sha256');
    expected.update(read('worked/nar/greeting.txt.nar').subarray(0, 88));
    const sizeField = Buffer.alloc(8);
    sizeField.writeBigUInt64LE(BigInt(size));
    expected.update(sizeField);
    for (let i = 0; i < 64; i++) expected.update(piece);
    expected.update(read('worked/nar/greeting.txt.nar').subarray(112));
    assert.equal(h.digest('hex'), expected.digest('hex'));
  });

  it('parses a large file with constant memory through a streaming sink', async () => {
    const size = 32 * (1 << 20) + 3;
    const src = narSourceFromTree({ type: 'regular', contents: new Uint8Array(size).fill(1) });
    let seen = 0;
    const sink = {
      ...nullNarSink,
      regular: (_p: string, _x: boolean, s: number) => {
        assert.equal(s, size);
        return {
          write(c: Uint8Array) {
            seen += c.length;
          },
          close() {},
        };
      },
    };
    assert.deepEqual(await parseNar(dumpNar(src), sink), { narSize: size + 5 + 112 });
    assert.equal(seen, size);
  });
});

describe('NAR parse → restore → dump round trips', () => {
  it('random trees', async () => {
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const alphabet = ['a', 'b', 'Z', '_', '.', '-', 'é', '€', '日', '\u{1f600}', '~', ' '];
    const gen = (depth: number): NarTree => {
      const k = depth > 3 ? rnd(2) : rnd(3);
      if (k === 0) {
        const contents = new Uint8Array(rnd(4) === 0 ? rnd(100000) : rnd(20)).map(() => rnd(256));
        return { type: 'regular', executable: rnd(2) === 1, contents };
      }
      if (k === 1) return { type: 'symlink', target: `../x/${rnd(1000)}` };
      const entries: Record<string, NarTree> = {};
      for (let i = rnd(6); i > 0; i--) {
        let name = '';
        for (let j = 1 + rnd(5); j > 0; j--) name += alphabet[rnd(alphabet.length)];
        if (name === '.' || name === '..') name += 'x';
        entries[name] = gen(depth + 1);
      }
      return { type: 'directory', entries };
    };
    for (let i = 0; i < 40; i++) {
      const tree = gen(0);
      const nar = await narFromBytesTree(tree);
      const back = await parseTree(nar, 1 + rnd(5000));
      assert.deepEqual(await narFromBytesTree(back), nar);
    }
  });
});
