import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cacheKey } from './bundle.js';

test('the code cache key is the command, whatever the options around it', () => {
  assert.equal(cacheKey('tix', ['eval', '-E', '1']), 'eval');
  assert.equal(cacheKey('tix', ['--store', 'local?root=/x', 'store', 'add', 'f']), 'store add');
  assert.equal(cacheKey('tix', ['--version']), '');
  assert.equal(cacheKey('tix', ['no-such-command', 'x']), '');
  assert.equal(cacheKey('tix-store', ['--serve', '--write']), '');
});

test('the bundle hands out the EvalIO modules src/glue/instantiate.ts names beside it', async () => {
  const bin = new URL('../../bin/', import.meta.url);
  for (const file of ['store-io.js', 'store-io-remote.js']) {
    const mod = (await import(new URL(file, bin).href)) as { createEvalIO?: unknown };
    assert.equal(typeof mod.createEvalIO, 'function', file);
  }
});
