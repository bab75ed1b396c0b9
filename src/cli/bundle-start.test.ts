import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const tmp = mkdtempSync(join(tmpdir(), 'tix-bundle-start-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const bundle = join(tmp, 'bundle.cjs');
const cache = join(tmp, 'tix.v8cache');
const loader = new URL('./bundle-start.js', import.meta.url).href;

/** A bundle whose run prints `word` (and turns a V8 flag off, as evaluation does, if asked). */
function writeBundle(word: string): void {
  writeFileSync(
    bundle,
    `'use strict';
exports.cacheKey = (exe, argv) => argv[0];
exports.storeIO = async () => ({});
exports.run = async (exe, argv) => {
  if (argv[1] === 'flags') require('node:v8').setFlagsFromString('--no-allocation-site-pretenuring');
  const f = (n) => (n === 0 ? '${word}' : f(n - 1));
  process.stdout.write(exe + ' ' + f(3) + '\\n');
};
`,
  );
}

/** Runs the loader on the bundle in a new process; returns its output. */
function start(...argv: string[]): string {
  const script = `import { startBundle } from ${JSON.stringify(loader)};
await startBundle(${JSON.stringify({ bundle, cache, exe: 'tix', argv })});`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  return r.stdout;
}

const header = () => {
  const b = readFileSync(cache);
  return JSON.parse(b.subarray(4, 4 + b.readUInt32LE(0)).toString()) as { id: string; keys: string[] };
};
/** Identifies one write of the cache file (each write renames a new file into place). */
const written = () => statSync(cache).ino;

describe('starting from the bundle with a code cache', () => {
  it('writes the cache on the first run and uses it, unchanged, on the next', () => {
    writeBundle('one');
    assert.equal(start('a'), 'tix one\n');
    assert.deepEqual(header().keys, ['a']);
    const w = written();
    assert.equal(start('a'), 'tix one\n');
    assert.equal(written(), w);
  });

  it('adds the code of another command to the cache once', () => {
    assert.equal(start('b'), 'tix one\n');
    assert.deepEqual(header().keys, ['a', 'b']);
    const w = written();
    start('a');
    start('b');
    assert.equal(written(), w);
  });

  it('never runs a rebuilt bundle from the old cache, even one of the same length', () => {
    const before = header().id;
    writeBundle('two');
    assert.equal(start('a'), 'tix two\n');
    assert.notEqual(header().id, before);
    assert.deepEqual(header().keys, ['a']);
  });

  it('writes a cache that later runs accept when the run changed V8 flags', () => {
    assert.equal(start('c', 'flags'), 'tix two\n');
    assert.deepEqual(header().keys, ['a', 'c']);
    const w = written();
    assert.equal(start('c', 'flags'), 'tix two\n');
    assert.equal(written(), w);
  });

  it('runs without a cache it cannot read, and replaces it', () => {
    writeFileSync(cache, 'garbage');
    assert.equal(start('a'), 'tix two\n');
    assert.deepEqual(header().keys, ['a']);
  });
});
