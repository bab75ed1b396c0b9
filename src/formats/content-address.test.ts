import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ContentAddress,
  makeContentAddressedPath,
  parseContentAddress,
  printContentAddress,
} from './content-address.js';
import { FormatError } from './errors.js';
import { hashBytes, parseHash } from './hash.js';
import { readVectorText } from './test-vectors.js';

const SD = '/nix/store';

test('master CA JSON vectors map to the 2.8 string forms and back', () => {
  const methods: Record<string, ContentAddress['method']> = { text: 'text', flat: 'flat', nar: 'recursive' };
  const fromJson = (j: { method: string; hash: string }): ContentAddress => ({
    method: methods[j.method]!,
    hash: parseHash(j.hash),
  });
  const text = fromJson(JSON.parse(readVectorText('content-address/text.json')));
  assert.deepEqual(text.hash, hashBytes('sha256', 'asdf'));
  assert.equal(printContentAddress(text), 'text:sha256:0fz12qc1nillhvhw6bvs4ka18789x8dqaipjb316x4aqdkvw5r7h'); // nix-hash --flat --base32 of 'asdf'
  const nar = fromJson(JSON.parse(readVectorText('content-address/nar.json')));
  assert.deepEqual(nar.hash, hashBytes('sha256', 'qwer'));
  const all = (JSON.parse(readVectorText('common-protocol/content-address.json')) as never[]).map(fromJson);
  assert.deepEqual(
    all.map(printContentAddress).map((s) => s.split(':').slice(0, -1).join(':')),
    ['text:sha256', 'fixed:sha1', 'fixed:r:sha256'],
  );
  for (const ca of [text, nar, ...all]) assert.deepEqual(parseContentAddress(printContentAddress(ca)), ca);
});

test('2.8 path-info ca strings reproduce their store paths', () => {
  const infos = JSON.parse(readVectorText('worked/json/path-info-json-sigs.json')) as {
    path: string;
    ca?: string;
    references: string[];
  }[];
  let n = 0;
  for (const info of infos) {
    if (!info.ca) continue;
    const ca = parseContentAddress(info.ca);
    assert.equal(printContentAddress(ca), info.ca);
    const name = info.path.slice(SD.length + 34);
    assert.equal(
      makeContentAddressedPath(name, ca, { storeDir: SD, references: info.references }),
      info.path,
    );
    n++;
  }
  assert.equal(n, 2);
  assert.deepEqual(
    parseContentAddress('fixed:sha256:00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq').hash,
    hashBytes('sha256', 'hello\n'),
  );
});

test('content addresses accept any digest encoding and print nix32', () => {
  const h = hashBytes('sha256', 'x');
  const hex = h.digest.reduce((s, b) => s + b.toString(16).padStart(2, '0'), '');
  assert.equal(
    printContentAddress(parseContentAddress(`fixed:r:sha256:${hex}`)),
    printContentAddress({ method: 'recursive', hash: h }),
  );
  const text = parseContentAddress('text:sha256:0fz12qc1nillhvhw6bvs4ka18789x8dqaipjb316x4aqdkvw5r7h');
  assert.equal(
    makeContentAddressedPath(
      'note.txt',
      { method: 'text', hash: hashBytes('sha256', 'Hello from toFile\n') },
      { storeDir: SD },
    ),
    '/nix/store/hg46kniccsf3qxd7sli60rzsp3zcm418-note.txt',
  );
  assert.throws(
    () => makeContentAddressedPath('x', text, { storeDir: SD, selfReference: true }),
    FormatError,
  );
});

test('malformed content addresses are FormatError BAD_CA', () => {
  for (const bad of [
    '',
    'text',
    'fixed:sha256',
    'text:sha1:9djha9dv3ikxh81sw29z0a1wdakcif3i',
    'fixed:git:sha1:9djha9dv3ikxh81sw29z0a1wdakcif3i',
    'source:sha256:0fz12qc1nillhvhw6bvs4ka18789x8dqaipjb316x4aqdkvw5r7h',
    'fixed:r:sha256:0fz12qc1nillhvhw6bvs4ka18789x8dqaipjb316x4aqdkvw5r7',
    'fixed:r:sha256:2fz12qc1nillhvhw6bvs4ka18789x8dqaipjb316x4aqdkvw5r7h',
    'fixed:md4:0fz12qc1nillhvhw6bvs4ka18789x8dqaipjb316x4aqdkvw5r7h',
  ]) {
    assert.throws(
      () => parseContentAddress(bad),
      (e: unknown) => e instanceof FormatError && e.code === 'BAD_CA' && e.message.includes(`'${bad}'`),
      bad,
    );
  }
});
