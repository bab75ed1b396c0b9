import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CACHE_VECTORS,
  copyVectorCache,
  DEP,
  GREETING,
  TEST_PUBLIC,
  TINYDIR,
  TOP,
  TOP_DEV,
} from './binary-cache.test-util.js';
import { isStoreError, StoreError } from './errors.js';
import type { LocalStore } from './local.js';
import { openStore } from './open.js';
import { type SubstituteSettings, substitutePaths } from './substitute.js';
import { collect, makeLocalStore, removeDir, tempDir } from './test-util.js';

const tmp = tempDir('tix-subst-');
after(() => removeDir(tmp));
const TINYDIR_NAR = readFileSync('/work/shared/vectors/worked/nar/tinydir.nar');
let n = 0;

function fresh(): LocalStore {
  return makeLocalStore({ root: join(tmp, `root${n++}`) }).store;
}

function settings(
  substituters: string[],
  extra: Partial<SubstituteSettings> = {},
): SubstituteSettings & { log: string[] } {
  const log: string[] = [];
  return {
    substituters,
    trustedPublicKeys: [TEST_PUBLIC],
    requireSigs: true,
    openStore: (uri) => openStore(uri),
    onLog: (l) => log.push(l),
    log,
    ...extra,
  };
}

/** Valid paths and leftover files in a store's real store dir (.links is always there). */
async function contents(store: LocalStore): Promise<string[]> {
  return readdirSync(store.realStoreDir)
    .filter((n) => n !== '.links')
    .sort();
}

describe('substitutePaths', () => {
  for (const c of ['xz', 'none', 'zstd', 'bzip2', 'gzip', 'br', 'lz4', 'lzip']) {
    const path = c === 'xz' || c === 'none' ? GREETING : TINYDIR;
    it(`fetches a content-addressed path from Nix 2.8's ${c} cache`, async () => {
      const local = fresh();
      const s = settings([`file://${join(CACHE_VECTORS, c)}`], { trustedPublicKeys: [] });
      const r = await substitutePaths(local, [path], s);
      assert.deepEqual(r, { substituted: [path], missing: [], failed: new Map() });
      assert.ok(await local.isValidPath(path));
      if (path === TINYDIR) assert.deepEqual(await collect(local.narFromPath(TINYDIR)), TINYDIR_NAR);
      assert.deepEqual(s.log, [`copying path '${path}' from 'file://${join(CACHE_VECTORS, c)}'...`]);
      await local.close();
    });
  }

  it('fetches a signed closure, references first, and skips what is valid', async () => {
    const local = fresh();
    const s = settings([`file://${join(CACHE_VECTORS, 'xz')}`]);
    const r = await substitutePaths(local, [TOP_DEV], s);
    assert.deepEqual(r.missing, []);
    assert.deepEqual(r.failed, new Map());
    assert.deepEqual(new Set(r.substituted), new Set([TOP_DEV, TOP, GREETING, DEP]));
    assert.ok(r.substituted.indexOf(DEP) < r.substituted.indexOf(TOP));
    assert.equal(r.substituted.at(-1), TOP_DEV);
    const info = await local.queryPathInfo(TOP_DEV);
    assert.equal(info?.ultimate, false);
    assert.equal(info?.sigs.length, 1);
    const again = await substitutePaths(local, [TOP_DEV, TOP], s);
    assert.deepEqual(again, { substituted: [], missing: [], failed: new Map() });
    await local.close();
  });

  it('refuses unsigned or untrusted input-addressed paths, registering nothing', async () => {
    for (const keys of [[], ['other-key:FJNjClLjcVxXnH8kX/NQ7hlyNq9fzd+iz0+xMWH1YoM=']]) {
      const local = fresh();
      const r = await substitutePaths(
        local,
        [DEP],
        settings([`file://${join(CACHE_VECTORS, 'xz')}`], { trustedPublicKeys: keys }),
      );
      assert.deepEqual(r.substituted, []);
      const e = r.failed.get(DEP);
      assert.ok(isStoreError(e, 'SIGNATURE'), String(e));
      assert.equal(
        e.message,
        `cannot substitute '${DEP}' from 'file://${join(CACHE_VECTORS, 'xz')}': it lacks a valid signature by a trusted key`,
      );
      assert.equal(await local.isValidPath(DEP), false);
      assert.deepEqual(await contents(local), []);
      await local.close();
    }
    const lax = fresh();
    const r = await substitutePaths(
      lax,
      [DEP],
      settings([`file://${join(CACHE_VECTORS, 'xz')}`], { trustedPublicKeys: [], requireSigs: false }),
    );
    assert.deepEqual(r.substituted, [DEP]);
    await lax.close();
  });

  const tamperings: [string, (dir: string) => void, RegExp][] = [
    [
      'a NAR byte changed',
      (dir) => {
        const f = join(dir, 'nar/00kjynz8n03652qccs76ivsvark3pr3dfr6w1ba3x7bx83kcknvv.nar');
        const b = readFileSync(f);
        b[96]! ^= 1; // a byte of the file's contents: the NAR stays well-formed
        writeFileSync(f, b);
      },
      /does not match its narinfo's FileHash/,
    ],
    [
      'a NAR byte changed and no FileHash',
      (dir) => {
        const f = join(dir, 'nar/00kjynz8n03652qccs76ivsvark3pr3dfr6w1ba3x7bx83kcknvv.nar');
        const b = readFileSync(f);
        b[96]! ^= 1;
        writeFileSync(f, b);
        edit(dir, (t) => t.replace(/File(Hash|Size): .*\n/g, ''));
      },
      /hash mismatch importing path '[^']+';\n {2}specified: sha256:00kjynz8n03652qccs76ivsvark3pr3dfr6w1ba3x7bx83kcknvv\n/,
    ],
    [
      'NarHash in the narinfo changed',
      (dir) => edit(dir, (t) => t.replace(/NarHash: sha256:0/, 'NarHash: sha256:1')),
      /lacks a valid signature/,
    ],
    [
      'NarSize changed',
      (dir) => edit(dir, (t) => t.replace('NarSize: 120', 'NarSize: 128')),
      /lacks a valid signature/,
    ],
    ['signature removed', (dir) => edit(dir, (t) => t.replace(/Sig: .*\n/, '')), /lacks a valid signature/],
    [
      'signature bytes altered',
      (dir) =>
        edit(dir, (t) =>
          t.replace(
            /Sig: research-cache-1:(.)/,
            (_m, c: string) => `Sig: research-cache-1:${c === 'A' ? 'B' : 'A'}`,
          ),
        ),
      /lacks a valid signature/,
    ],
    [
      'NAR file missing',
      (dir) => writeFileSync(join(dir, 'nar/00kjynz8n03652qccs76ivsvark3pr3dfr6w1ba3x7bx83kcknvv.nar'), ''),
      /has 0 bytes, its narinfo says 120/,
    ],
  ];
  function edit(dir: string, f: (t: string) => string): void {
    const p = join(dir, 'z4asv3j07d89ywjf8fxkn7sg6mf5s9q5.narinfo');
    writeFileSync(p, f(readFileSync(p, 'utf8')));
  }
  for (const [what, tamper, reason] of tamperings) {
    it(`refuses a cache with ${what}, naming the path, registering nothing`, async () => {
      const dir = copyVectorCache('none');
      tamper(dir);
      const local = fresh();
      const r = await substitutePaths(local, [TOP], settings([`file://${dir}`]));
      assert.deepEqual(r.substituted, []);
      const e = r.failed.get(TOP);
      assert.ok(e, 'TOP failed');
      const inner = (e.cause as Error | undefined)?.message ?? e.message;
      assert.ok(e.message.includes(TOP) || inner.includes(DEP), e.message);
      assert.match(`${e.message} ${inner}`, reason);
      assert.ok(`${e.message} ${inner}`.includes(DEP), 'the failing path is named');
      assert.equal(await local.isValidPath(DEP), false);
      assert.equal(await local.isValidPath(TOP), false);
      assert.deepEqual(await contents(local), []);
      await local.close();
    });
  }

  it('reports paths no substituter has as missing, and an incomplete closure as missing', async () => {
    const gone = copyVectorCache('xz');
    rmSync(join(gone, 'z4asv3j07d89ywjf8fxkn7sg6mf5s9q5.narinfo'));
    const local = fresh();
    const r = await substitutePaths(
      local,
      [TOP, GREETING, '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-nowhere'],
      settings([`file://${gone}`]),
    );
    assert.deepEqual(r.substituted, [GREETING]);
    assert.deepEqual(r.missing, ['/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-nowhere', TOP]);
    await local.close();
  });

  it('prefers the cache with the lower Priority and falls through to the next that has a path', async () => {
    const low = copyVectorCache('zstd');
    const high = copyVectorCache('xz');
    writeFileSync(join(low, 'nix-cache-info'), 'StoreDir: /nix/store\nPriority: 10\n');
    writeFileSync(join(high, 'nix-cache-info'), 'StoreDir: /nix/store\nPriority: 90\n');
    const local = fresh();
    const s = settings([`file://${high}`, `file://${low}`, `file://${join(tmp, 'not-a-cache')}`]);
    const r = await substitutePaths(local, [TINYDIR, GREETING], s);
    assert.deepEqual(r.substituted.sort(), [GREETING, TINYDIR].sort());
    assert.ok(s.log.includes(`copying path '${TINYDIR}' from 'file://${low}'...`));
    assert.ok(s.log.includes(`copying path '${GREETING}' from 'file://${high}'...`));
    await local.close();
  });

  it('tries a download that failed in transfer again, up to download-attempts times', async () => {
    /** The cache, with its first `fails` NAR transfers cut off half-way. */
    const flaky = (fails: number) => async (uri: string) => {
      const store = await openStore(uri);
      let left = fails;
      return new Proxy(store, {
        get(target, key) {
          if (key !== 'narFromPath') return Reflect.get(target, key, target);
          return (path: string) =>
            (async function* () {
              if (left-- > 0) throw new StoreError('IO', `cannot download '${path}': connection reset`);
              yield* target.narFromPath(path);
            })();
        },
      });
    };
    const cache = `file://${join(CACHE_VECTORS, 'xz')}`;
    const once = fresh();
    const r1 = await substitutePaths(
      once,
      [GREETING],
      settings([cache], { openStore: flaky(2), downloadAttempts: 1 }),
    );
    assert.deepEqual(r1.substituted, []);
    assert.match(r1.failed.get(GREETING)?.message ?? '', /connection reset/);
    assert.ok(!(await once.isValidPath(GREETING)));
    await once.close();
    const local = fresh();
    const s = settings([cache], { openStore: flaky(2), downloadAttempts: 3 });
    const r = await substitutePaths(local, [GREETING], s);
    assert.deepEqual(r.substituted, [GREETING]);
    assert.equal(s.log.filter((l) => /retrying in \d+ ms/.test(l)).length, 2, s.log.join('\n'));
    await local.close();
  });

  it('tries the next substituter when a download fails', async () => {
    const broken = copyVectorCache('none');
    writeFileSync(join(broken, 'nix-cache-info'), 'StoreDir: /nix/store\nPriority: 1\n');
    const f = join(broken, 'nar/14ml5q1qvx7y3d0n2d1n0j2gdj4s0z54pfj6iwvgnn038ipybsgd.nar');
    const b = readFileSync(f);
    b[96]! ^= 1; // a byte of the file's contents: the NAR stays well-formed
    writeFileSync(f, b);
    const local = fresh();
    const s = settings([`file://${broken}`, `file://${join(CACHE_VECTORS, 'xz')}`]);
    const r = await substitutePaths(local, [GREETING], s);
    assert.deepEqual(r.substituted, [GREETING]);
    assert.ok(
      s.log.some((l) => l.startsWith('warning: ') && l.includes('FileHash')),
      s.log.join('\n'),
    );
    await local.close();
  });
});
