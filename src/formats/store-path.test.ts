import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FormatError } from './errors.js';
import { hashBase16, hashBytes, parseHash } from './hash.js';
import {
  makeFixedOutputPath,
  makeOutputPath,
  makeOutputPathBase16,
  makeStorePath,
  makeTextPath,
  makeTextPathBase16,
  parseStorePath,
  parseStorePathBase,
  printStorePath,
  storePathFingerprint,
  validateStorePathName,
} from './store-path.js';
import { readVector, readVectorText } from './test-vectors.js';

const SD = '/nix/store';
const badPath = (e: unknown) => e instanceof FormatError && e.code === 'BAD_STORE_PATH';

test('example A: nix-store --add greeting.txt (source, NAR sha256)', () => {
  const nar = readVector('worked/nar/greeting.txt.nar');
  const narHash = hashBytes('sha256', nar);
  assert.equal(
    storePathFingerprint('source', narHash, 'greeting.txt', SD),
    'source:sha256:ede9e56f440358fb368f46ba4bca079ac8f68404363461411bfef48d032eb492:/nix/store:greeting.txt',
  );
  assert.equal(
    makeFixedOutputPath('greeting.txt', { method: 'recursive', hash: narHash }, { storeDir: SD }),
    '/nix/store/hyqv6qj126byaw1aasq4rvxa1lr502fp-greeting.txt',
  );
});

test('example B and B′: builtins.toFile with and without references', () => {
  assert.equal(
    makeTextPath('note.txt', hashBytes('sha256', 'Hello from toFile\n'), [], SD),
    '/nix/store/hg46kniccsf3qxd7sli60rzsp3zcm418-note.txt',
  );
  const greeting = '/nix/store/hyqv6qj126byaw1aasq4rvxa1lr502fp-greeting.txt';
  assert.equal(
    makeTextPath('uses-greeting.sh', hashBytes('sha256', `cat ${greeting}\n`), [greeting], SD),
    '/nix/store/c3lsl70bp9nzfv4w312449vriak8bn34-uses-greeting.sh',
  );
  assert.throws(() => makeTextPath('x', hashBytes('sha1', 'x'), [], SD), FormatError);
  assert.equal(
    makeTextPathBase16('uses-greeting.sh', hashBase16('sha256', `cat ${greeting}\n`), [greeting], SD),
    '/nix/store/c3lsl70bp9nzfv4w312449vriak8bn34-uses-greeting.sh',
  );
});

test('example C: flat fixed-output (double hash), sha256 and sha1; recursive sha1', () => {
  const file = readVector('worked/inputs/greeting.txt');
  assert.equal(
    makeFixedOutputPath(
      'greeting.txt',
      { method: 'flat', hash: hashBytes('sha256', file) },
      { storeDir: SD },
    ),
    '/nix/store/adjz70kvhkm0iqv287v6jlrkbbx5h9a2-greeting.txt',
  );
  assert.equal(
    makeFixedOutputPath('greeting.txt', { method: 'flat', hash: hashBytes('sha1', file) }, { storeDir: SD }),
    '/nix/store/3ik80wxvmrsajp11833l9d776294l12d-greeting.txt',
  );
  const tinydirSha1 = hashBytes('sha1', readVector('worked/nar/tinydir.nar'));
  assert.equal(
    makeFixedOutputPath('tinydir', { method: 'recursive', hash: tinydirSha1 }, { storeDir: SD }),
    '/nix/store/fx316kcrdar5yfv9bjlw3hixdn293ysn-tinydir',
  );
  assert.equal(
    makeFixedOutputPath(
      'tinydir',
      { method: 'recursive', hash: hashBytes('sha256', readVector('worked/nar/tinydir.nar')) },
      { storeDir: SD },
    ),
    '/nix/store/vj560xbrqv9ps9b0ypgmsvjdmylg20y1-tinydir',
  );
  const fixedHello = parseHash('sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03');
  assert.equal(
    makeFixedOutputPath('fixed-hello', { method: 'flat', hash: fixedHello }, { storeDir: SD }),
    '/nix/store/a17ah642xc653fw8pfw4kxqcgzjm5qi0-fixed-hello',
  );
  assert.throws(
    () => makeFixedOutputPath('x', { method: 'flat', hash: fixedHello }, { storeDir: SD, references: [SD] }),
    badPath,
  );
});

test('example D: source with a reference and self', () => {
  const h = hashBytes('sha256', '(...)');
  const bar = '/nix/store/g1w7hy3qg1w7hy3qg1w7hy3qg1w7hy3q-bar';
  assert.equal(
    makeFixedOutputPath(
      'foo',
      { method: 'recursive', hash: h },
      { storeDir: SD, references: [bar], selfReference: true },
    ),
    '/nix/store/n5wkd9frr45pa74if5gpz9j7mifg27fh-foo',
  );
  // path-info / nar-info vectors describe that object; its ca hash is the "(...)" hash.
  const pi = JSON.parse(readVectorText('path-info/json-2/pure.json'));
  assert.deepEqual(parseHash(pi.ca.hash).digest, h.digest);
  assert.deepEqual(pi.references, [
    'g1w7hy3qg1w7hy3qg1w7hy3qg1w7hy3q-bar',
    'n5wkd9frr45pa74if5gpz9j7mifg27fh-foo',
  ]);
});

test('example E outputs: makeOutputPath from the masked hashes', () => {
  const dep = parseHash('sha256:00b851513f5c58e264a751c12c2cda4ea5422f951c14c49330bab04fdd208106');
  assert.equal(makeOutputPath('out', dep, 'dep', SD), '/nix/store/z4asv3j07d89ywjf8fxkn7sg6mf5s9q5-dep');
  const top = parseHash('sha256:738b16b44c8146a67fecd1a90e51f622dcd49e6d6254fb76a86e2280c4f7859c');
  assert.equal(makeOutputPath('dev', top, 'top', SD), '/nix/store/420501dw8qf5s0sxmmkg6cs7awrbqsaw-top-dev');
  assert.equal(makeOutputPath('out', top, 'top', SD), '/nix/store/b519l05f2ax5jbbnllvl77z1br1pgkjm-top');
  assert.equal(
    makeOutputPathBase16(
      'dev',
      '738b16b44c8146a67fecd1a90e51f622dcd49e6d6254fb76a86e2280c4f7859c',
      'top',
      SD,
    ),
    '/nix/store/420501dw8qf5s0sxmmkg6cs7awrbqsaw-top-dev',
  );
  assert.equal(
    makeStorePath('output:out', top, 'top', SD),
    '/nix/store/b519l05f2ax5jbbnllvl77z1br1pgkjm-top',
  );
});

test('store-path vectors parse and print back', () => {
  const base = JSON.parse(readVectorText('store-path/simple.json')) as string;
  assert.deepEqual(parseStorePathBase(base), {
    hashPart: 'g1w7hy3qg1w7hy3qg1w7hy3qg1w7hy3q',
    name: 'foo.drv',
  });
  assert.equal(readVectorText('store-path/fuzz-seeds/simple'), base);
  assert.equal(printStorePath(parseStorePath(`${SD}/${base}`, SD), SD), `${SD}/${base}`);
});

test('parseStorePath canonicalises and requires the store dir as parent', () => {
  const p = '/nix/store/hyqv6qj126byaw1aasq4rvxa1lr502fp-greeting.txt';
  assert.equal(
    printStorePath(parseStorePath('/nix//store/./hyqv6qj126byaw1aasq4rvxa1lr502fp-greeting.txt/', SD), SD),
    p,
  );
  assert.equal(
    printStorePath(parseStorePath('/nix/var/../store/hyqv6qj126byaw1aasq4rvxa1lr502fp-greeting.txt', SD), SD),
    p,
  );
  for (const bad of [
    'nix/store/hyqv6qj126byaw1aasq4rvxa1lr502fp-greeting.txt',
    '/nix/store/hyqv6qj126byaw1aasq4rvxa1lr502fp-greeting.txt/sub',
    '/nix/stor/hyqv6qj126byaw1aasq4rvxa1lr502fp-greeting.txt',
    '/nix/store',
    '/nix/store/hyqv6qj126byaw1aasq4rvxa1lr502fp',
    '/nix/store/hyqv6qj126byaw1aasq4rvxa1lr502fp-',
    '/nix/store/hyqv6qj126byaw1aasq4rvxa1lr502fe-greeting.txt',
    '/nix/store/hyqv6qj126byaw1aasq4rvxa1lr502fpxgreeting.txt',
    '/nix/store/hyqv6qj126byaw1aasq4rvxa1lr502fp-greeting txt',
    '/nix/store/hyqv6qj126byaw1aasq4rvxa1lr502fp-gréeting',
  ]) {
    assert.throws(
      () => parseStorePath(bad, SD),
      (e: unknown) => badPath(e) && (e as Error).message.includes("'"),
      bad,
    );
  }
});

test('name rules are 2.8 rules', () => {
  for (const ok of ['..', '.', '.-foo', 'a', 'A-Z_0.9+?=', 'x'.repeat(211)]) validateStorePathName(ok);
  for (const bad of ['', 'x'.repeat(212), 'a/b', 'a b', 'a:b', 'é', 'a\nb']) {
    assert.throws(() => validateStorePathName(bad), badPath, JSON.stringify(bad));
  }
  assert.throws(() => makeTextPath('a b', hashBytes('sha256', ''), [], SD), badPath);
});
