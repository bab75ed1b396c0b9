import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { FormatError } from './errors.js';
import { hashBytes, parseHash, printHash } from './hash.js';
import {
  fingerprint,
  generateSecretKey,
  narInfoFingerprint,
  parseNarInfo,
  parseNixCacheInfo,
  parsePublicKey,
  parseSecretKey,
  printNarInfo,
  printNixCacheInfo,
  printPublicKey,
  printSecretKey,
  signFingerprint,
  toPublicKey,
  verifySignature,
} from './narinfo.js';
import { readVector, readVectorText, vectorPath } from './test-vectors.js';

const SD = '/nix/store';
const SECRET =
  'research-cache-1:U/SlXdOc4nBfIF0+6ko+sjsQTsYXsCNIfMyhy5+kMmcUk2MKUuNxXFecfyRf81DuGXI2r1/N36LPT7ExYfVigw==';

function narinfoFiles(): string[] {
  const out: string[] = [];
  for (const f of readdirSync(vectorPath('worked/narinfo')))
    if (f.endsWith('.narinfo')) out.push(`worked/narinfo/${f}`);
  for (const c of readdirSync(vectorPath('binary-cache-nix-2.8'))) {
    if (c.includes('.')) continue;
    for (const f of readdirSync(vectorPath(`binary-cache-nix-2.8/${c}`))) {
      if (f.endsWith('.narinfo')) out.push(`binary-cache-nix-2.8/${c}/${f}`);
    }
  }
  return out;
}

test('every narinfo Nix 2.8 wrote parses and prints back byte-exactly; signatures verify', () => {
  const files = narinfoFiles();
  assert.equal(files.length, 19);
  const pub = parsePublicKey(readVectorText('binary-cache-nix-2.8/research-cache-1.pub'));
  const fps = new Set(
    readVectorText('worked/narinfo/signing-fingerprints.txt')
      .split('\n')
      .filter((l) => l),
  );
  let signed = 0;
  for (const f of files) {
    const text = readVectorText(f);
    const info = parseNarInfo(text, { storeDir: SD, where: f });
    assert.equal(printNarInfo(info), text, f);
    assert.equal(
      info.storePath.slice(SD.length + 1, SD.length + 33),
      f.slice(f.lastIndexOf('/') + 1, -'.narinfo'.length),
    );
    assert.ok(fps.has(narInfoFingerprint(info)), f);
    // the NAR file is named after its FileHash
    assert.equal(info.url.slice(4, 56), printHash(info.fileHash!, 'nix32'));
    for (const sig of info.sigs) {
      assert.ok(verifySignature(narInfoFingerprint(info), sig, [pub]), `${f}: ${sig}`);
      assert.equal(signFingerprint(parseSecretKey(SECRET), narInfoFingerprint(info)), sig);
      signed++;
    }
    assert.equal(verifySignature(narInfoFingerprint(info), `${info.sigs[0] ?? 'x:'}`, []), false);
  }
  assert.ok(signed >= 11);
});

test('uncompressed cache: FileHash = NarHash and the NAR hashes to it', () => {
  for (const f of readdirSync(vectorPath('binary-cache-nix-2.8/none')).filter((f) =>
    f.endsWith('.narinfo'),
  )) {
    const info = parseNarInfo(readVectorText(`binary-cache-nix-2.8/none/${f}`), { storeDir: SD });
    assert.deepEqual(info.fileHash, info.narHash);
    const nar = readVector(`binary-cache-nix-2.8/none/${info.url}`);
    assert.equal(nar.length, info.narSize);
    assert.deepEqual(hashBytes('sha256', nar), info.narHash);
  }
});

test('fields, defaults and the fingerprint of a content-addressed narinfo', () => {
  const info = parseNarInfo(readVectorText('worked/narinfo/hyqv6qj126byaw1aasq4rvxa1lr502fp.narinfo'), {
    storeDir: SD,
  });
  assert.equal(info.ca, 'fixed:r:sha256:14ml5q1qvx7y3d0n2d1n0j2gdj4s0z54pfj6iwvgnn038ipybsgd');
  assert.deepEqual(info.references, []);
  assert.equal(info.deriver, undefined);
  assert.equal(
    narInfoFingerprint(info),
    '1;/nix/store/hyqv6qj126byaw1aasq4rvxa1lr502fp-greeting.txt;sha256:14ml5q1qvx7y3d0n2d1n0j2gdj4s0z54pfj6iwvgnn038ipybsgd;128;',
  );
  const top = parseNarInfo(readVectorText('worked/narinfo/420501dw8qf5s0sxmmkg6cs7awrbqsaw.narinfo'), {
    storeDir: SD,
  });
  assert.equal(top.deriver, '/nix/store/7a6cd5z2ys1ps3lgj7sj2n102b0k8jj7-top.drv');
  assert.equal(top.references.length, 3);
  const minimal = parseNarInfo(
    'StorePath: /nix/store/hyqv6qj126byaw1aasq4rvxa1lr502fp-greeting.txt\nURL: x\nNarHash: sha256:14ml5q1qvx7y3d0n2d1n0j2gdj4s0z54pfj6iwvgnn038ipybsgd\nNarSize: 128\nDeriver: unknown-deriver\nSystem: x86_64-linux\nFuture: whatever\n',
    { storeDir: SD },
  );
  assert.equal(minimal.compression, 'bzip2');
  assert.equal(minimal.deriver, undefined);
  assert.equal(minimal.system, 'x86_64-linux');
  assert.ok(printNarInfo(minimal).includes('References: \nSystem: x86_64-linux\n'));
});

test('path-info JSON signatures (2.8) verify over the same fingerprint', () => {
  const pub = parsePublicKey(readVectorText('worked/keys/research-cache-1.pub'));
  const infos = JSON.parse(readVectorText('worked/json/path-info-json-sigs.json')) as {
    path: string;
    narHash: string;
    narSize: number;
    references: string[];
    signatures?: string[];
  }[];
  let n = 0;
  for (const i of infos) {
    const fp = fingerprint(i.path, parseHash(i.narHash), i.narSize, i.references);
    for (const s of i.signatures ?? []) {
      assert.ok(verifySignature(fp, s, [pub]));
      assert.equal(verifySignature(`${fp}x`, s, [pub]), false);
      n++;
    }
  }
  assert.equal(n, 4);
});

test('keys: parse/print, public from secret, generated keys sign and verify', () => {
  const sk = parseSecretKey(`${SECRET}\n`);
  assert.equal(printSecretKey(sk), SECRET);
  assert.equal(printPublicKey(toPublicKey(sk)), readVectorText('worked/keys/research-cache-1.pub'));
  const gen = generateSecretKey('test-1');
  const again = parseSecretKey(printSecretKey(gen));
  const sig = signFingerprint(again, 'hello');
  assert.ok(sig.startsWith('test-1:'));
  assert.ok(verifySignature('hello', sig, [parsePublicKey(printPublicKey(toPublicKey(gen)))]));
  assert.equal(verifySignature('hello', sig, [{ name: 'test-1', key: toPublicKey(sk).key }]), false);
  const badKey = (e: unknown) => e instanceof FormatError && e.code === 'BAD_KEY';
  for (const bad of ['', 'nokey', ':abc', 'name:', 'name:!!!!', 'name:AAAA']) {
    assert.throws(() => parseSecretKey(bad), badKey, bad);
    assert.throws(() => parsePublicKey(bad), badKey, bad);
  }
  // public half that does not match the seed
  const swapped = new Uint8Array(sk.key);
  swapped[40]! ^= 1;
  assert.throws(() => parseSecretKey(printSecretKey({ name: 'k', key: swapped })), /does not match/);
  assert.throws(() => verifySignature('x', 'research-cache-1:AAAA', [toPublicKey(sk)]), badKey);
});

test('nix-cache-info', () => {
  for (const c of ['xz', 'none', 'zstd']) {
    const text = readVectorText(`binary-cache-nix-2.8/${c}/nix-cache-info`);
    const info = parseNixCacheInfo(text);
    assert.deepEqual(info, { storeDir: '/nix/store' });
    assert.equal(printNixCacheInfo(info), text);
  }
  assert.deepEqual(
    parseNixCacheInfo('StoreDir:  /nix/store \nWantMassQuery: 1\nPriority: 40\njunk\nOther: x\n'),
    {
      storeDir: '/nix/store',
      wantMassQuery: true,
      priority: 40,
    },
  );
  assert.throws(() => parseNixCacheInfo('Priority: high\n'), /line 1/);
});

test('malformed narinfo: FormatError BAD_NARINFO with the line', () => {
  const good = readVectorText('worked/narinfo/420501dw8qf5s0sxmmkg6cs7awrbqsaw.narinfo');
  const lines = good.split('\n');
  const cases: [string, RegExp][] = [
    [good.slice(0, -1), /missing newline at line 10/],
    [good.replace('NarSize: 1384', 'NarSize: 13x4'), /bad NarSize '13x4'.* at line 7/],
    [good.replace('NarSize: 1384', 'NarSize: 0'), /zero NarSize/],
    [good.replace(/^NarHash.*\n/m, ''), /missing NarHash/],
    [good.replace(/^URL.*\n/m, ''), /missing URL/],
    [good.replace('sha256:1237h', 'sha256:9237h'), /bad NarHash.* at line 6/],
    [good.replace('StorePath: /nix/store/', 'StorePath: /nix/stor/'), /bad StorePath.* at line 1/],
    [good.replace('top-dev b519', 'top-dev !!!'), /bad References.* at line 8/],
    [good.replace('Deriver: 7a6c', 'Deriver: 7a6'), /bad Deriver.* at line 9/],
    [`${good}References: \n`, /duplicate References at line 11/],
    [`${good}CA: fixed:sha256\n`, /bad CA.* at line 11/],
    [`${lines[0]}\nno colon here\n`, /expected 'Key: value'.* at line 2/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseNarInfo(text, { storeDir: SD, where: 'x.narinfo' }),
      (e: unknown) =>
        e instanceof FormatError &&
        e.code === 'BAD_NARINFO' &&
        re.test(e.message) &&
        e.message.startsWith("cannot parse narinfo 'x.narinfo': "),
      String(re),
    );
  }
});
