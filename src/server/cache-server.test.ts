import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashBytes, printHash } from '../formats/hash.js';
import { narInfoFingerprint, parseNarInfo } from '../formats/narinfo.js';
import { parsePublicKey, verifySignature } from '../formats/signing.js';
import { addIaPath, TEST_PUBLIC, testKey } from '../store/binary-cache.test-util.js';
import type { LocalStore } from '../store/local.js';
import { openStore } from '../store/open.js';
import type { ValidPathInfo } from '../store/store.js';
import { substitutePaths } from '../store/substitute.js';
import { collect, hasNix, makeLocalStore, NO_NIX, removeDir, tempDir } from '../store/test-util.js';
import { startCacheServer } from './cache-server.js';

const tmp = tempDir('tix-cache-serve-');
let store: LocalStore;
let dep: ValidPathInfo;
let top: ValidPathInfo;
let big: ValidPathInfo;
let server: Awaited<ReturnType<typeof startCacheServer>>;
let zstdServer: Awaited<ReturnType<typeof startCacheServer>>;

before(async () => {
  store = makeLocalStore({ root: join(tmp, 'served') }).store;
  dep = await addIaPath(store, 'dep', { type: 'regular', contents: 'dep\n' });
  top = await addIaPath(
    store,
    'top',
    {
      type: 'directory',
      entries: {
        link: { type: 'symlink', target: dep.path },
        run: { type: 'regular', executable: true, contents: '#!/bin/sh\n' },
      },
    },
    [dep.path],
  );
  big = await addIaPath(store, 'big', { type: 'regular', contents: randomBytes(6 << 20) });
  server = await startCacheServer(store, { signKeys: [testKey()] });
  zstdServer = await startCacheServer(store, { signKeys: [testKey()], compression: 'zstd' });
});
after(async () => {
  await server.close();
  await zstdServer.close();
  await store.close();
  removeDir(tmp);
});

function fetch(url: string): Promise<{ status: number; body: Buffer; type?: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, body: Buffer.concat(parts), type: res.headers['content-type'] }),
      );
      res.on('error', reject);
    }).on('error', reject);
  });
}

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
  });
}

describe('tix cache serve', () => {
  it('serves nix-cache-info and signed narinfos', async () => {
    const ci = await fetch(`${server.url}/nix-cache-info`);
    assert.equal(ci.body.toString(), 'StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 30\n');
    assert.equal(ci.type, 'text/x-nix-cache-info');
    const r = await fetch(`${server.url}/${top.path.slice(11, 43)}.narinfo`);
    assert.equal(r.status, 200);
    const ni = parseNarInfo(r.body.toString(), { storeDir: '/nix/store' });
    assert.equal(ni.storePath, top.path);
    assert.deepEqual(ni.references, [dep.path]);
    assert.ok(verifySignature(narInfoFingerprint(ni), ni.sigs[0]!, [parsePublicKey(TEST_PUBLIC)]));
    const nar = await fetch(`${server.url}/${ni.url}`);
    assert.deepEqual(nar.body, await collect(store.narFromPath(top.path)));
    assert.equal((await fetch(`${server.url}/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.narinfo`)).status, 404);
    assert.equal((await fetch(`${server.url}/${ni.url.replace('.nar', '.nar.xz')}`)).status, 404);
    const wrongHash = ni.url.replace(/-[0-9a-z]{52}/, `-${'0'.repeat(52)}`);
    assert.equal((await fetch(`${server.url}/${wrongHash}`)).status, 404);
  });

  it('gives 20 concurrent clients the right bytes', async () => {
    const ni = parseNarInfo(
      (await fetch(`${server.url}/${big.path.slice(11, 43)}.narinfo`)).body.toString(),
      { storeDir: '/nix/store' },
    );
    const results = await Promise.all(Array.from({ length: 20 }, () => fetch(`${server.url}/${ni.url}`)));
    for (const r of results) {
      assert.equal(r.status, 200);
      assert.equal(r.body.length, big.narSize);
      assert.equal(printHash(hashBytes('sha256', r.body), 'base16', { prefix: true }), big.narHash);
    }
  });

  for (const which of ['none', 'zstd'] as const) {
    it(`lets tix substitute a closure over HTTP (${which})`, async () => {
      const url = which === 'none' ? server.url : zstdServer.url;
      const { store: local } = makeLocalStore({ root: join(tmp, `client-${which}`) });
      const r = await substitutePaths(local, [top.path], {
        substituters: [url],
        trustedPublicKeys: [TEST_PUBLIC],
        requireSigs: true,
        openStore: (u) => openStore(u),
      });
      assert.deepEqual(r.substituted, [dep.path, top.path]);
      assert.deepEqual(
        await collect(local.narFromPath(top.path)),
        await collect(store.narFromPath(top.path)),
      );
      await local.close();
    });
  }
});

describe('Nix 2.8 substituting from tix cache serve', { skip: hasNix ? false : NO_NIX }, () => {
  const nixEnv = (name: string): NodeJS.ProcessEnv => {
    const dir = join(tmp, name);
    mkdirSync(join(dir, 'etc'), { recursive: true });
    writeFileSync(
      join(dir, 'etc/nix.conf'),
      'sandbox = false\nbuild-users-group =\nsubstituters =\nexperimental-features = nix-command\n',
    );
    return {
      PATH: process.env.PATH,
      HOME: dir,
      NIX_CONF_DIR: join(dir, 'etc'),
      NIX_USER_CONF_FILES: join(dir, 'none'),
      NIX_REMOTE: `local?root=${join(dir, 'root')}`,
    };
  };

  for (const which of ['none', 'zstd'] as const) {
    it(`nix-store -r fetches a signed closure (${which})`, async () => {
      const env = nixEnv(`nix-${which}`);
      const url = which === 'none' ? server.url : zstdServer.url;
      const opts = ['--option', 'substituters', url, '--option', 'trusted-public-keys', TEST_PUBLIC];
      const r = await run('nix-store', ['-r', top.path, ...opts], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.toString(), `${top.path}\n`);
      const dump = await run('nix-store', ['--dump', join(tmp, `nix-${which}`, 'root', top.path)], env);
      assert.deepEqual(dump.stdout, await collect(store.narFromPath(top.path)));
      const q = await run('nix-store', ['-q', '--references', top.path], env);
      assert.equal(q.stdout.toString(), `${dep.path}\n`);
    });
  }

  it('Nix refuses the paths when the key is not trusted', async () => {
    const env = nixEnv('nix-untrusted');
    const other = 'other-1:FJNjClLjcVxXnH8kX/NQ7hlyNq9fzd+iz0+xMWH1YoM=';
    const r = await run(
      'nix-store',
      ['-r', dep.path, '--option', 'substituters', server.url, '--option', 'trusted-public-keys', other],
      env,
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /is not signed by any of the keys in 'trusted-public-keys'/);
  });
});
