import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flagValue, flagValues, parseArgs } from './args.js';

const SPEC = {
  '--max-jobs': { arity: 1, aliases: ['-j'] },
  '--keep-going': { arity: 0, aliases: ['-k'] },
  '--arg': { arity: 2 },
};

test('flags take their values in order; a one-letter flag may carry its value attached', () => {
  const p = parseArgs(['-j4', 'a', '-k', '--arg', 'x', '1', '-j', '2', '--', '-j3'], SPEC);
  assert.deepEqual(flagValues(p, '--max-jobs'), [['4'], ['2']]);
  assert.equal(flagValue(p, '--max-jobs'), '2');
  assert.deepEqual(flagValues(p, '--arg'), [['x', '1']]);
  assert.deepEqual(p.positional, ['a', '-j3']);
  assert.throws(() => parseArgs(['-kx'], SPEC), /unrecognised flag '-kx'/);
  assert.throws(() => parseArgs(['--max-jobs'], SPEC), /flag '--max-jobs' requires 1 argument/);
});
