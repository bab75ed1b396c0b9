import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MachineHealth } from './machine-state.js';

test('a failing machine is down with exponential backoff, and up again after success', () => {
  let t = 1_000_000;
  const h = new MachineHealth({ initialMs: 1000, maxMs: 8000 }, () => t);
  assert.equal(h.unavailable('a'), undefined);
  h.markDown('a', 'connection refused');
  assert.match(h.unavailable('a') ?? '', /down since .* \(connection refused\), retry in 1s/);
  t += 1000;
  assert.equal(h.unavailable('a'), undefined, 'retry allowed after the delay');
  h.markDown('a', 'connection refused');
  assert.equal(h.get('a').retryAt, t + 2000);
  h.markDown('a', 'x');
  h.markDown('a', 'x');
  h.markDown('a', 'x');
  assert.equal(h.get('a').retryAt, t + 8000, 'capped at maxMs');
  assert.equal(h.nextRetryIn(['a', 'b']), 8000);
  h.markUp('a');
  assert.equal(h.unavailable('a'), undefined);
});

test('a permanent failure is never retried', () => {
  let t = 0;
  const h = new MachineHealth({ initialMs: 10, maxMs: 10 }, () => t);
  h.markDown('k', "host key of 'k' does not match the pinned key", { permanent: true });
  t += 1_000_000;
  assert.match(h.unavailable('k') ?? '', /does not match the pinned key/);
  assert.equal(h.nextRetryIn(['k']), undefined);
});
