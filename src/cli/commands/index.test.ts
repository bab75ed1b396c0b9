import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commands } from './index.js';

describe('command table', () => {
  it('loads, for every entry, the command of the same name', async () => {
    for (const c of commands) assert.deepEqual((await c.load()).name, c.name);
  });

  it('has no two entries with the same name', () => {
    const names = commands.map((c) => c.name.join(' '));
    assert.equal(new Set(names).size, names.length);
  });
});
