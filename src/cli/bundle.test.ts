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
