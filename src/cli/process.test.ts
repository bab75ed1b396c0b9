import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractGlobalOptions } from './process.js';

test('global options are taken out of the arguments wherever they are', () => {
  const { rest, global } = extractGlobalOptions([
    'eval',
    '--option',
    'system',
    'x86_64-linux',
    '--strict',
    '--show-trace',
    '--store',
    'local?root=/r',
    'f.nix',
  ]);
  assert.deepEqual(rest, ['eval', '--strict', 'f.nix']);
  assert.equal(global.options.get('system'), 'x86_64-linux');
  assert.equal(global.store, 'local?root=/r');
  assert.equal(global.showTrace, true);
});

test('--experimental-features and --extra-experimental-features are settings, as in Nix', () => {
  const { rest, global } = extractGlobalOptions([
    'eval',
    '--extra-experimental-features',
    'nix-command',
    '--extra-experimental-features',
    'flakes',
    '--experimental-features',
    'ca-derivations',
    '-E',
    '1',
  ]);
  assert.deepEqual(rest, ['eval', '-E', '1']);
  assert.equal(global.options.get('extra-experimental-features'), 'nix-command flakes');
  assert.equal(global.options.get('experimental-features'), 'ca-derivations');
});

test('every setting is a flag, as in Nix: --NAME VALUE, --NAME / --no-NAME, --extra-NAME VALUE', () => {
  const { rest, global } = extractGlobalOptions([
    'build',
    '--substituters',
    'file:///c',
    '--builders-use-substitutes',
    '--no-require-sigs',
    '--extra-sandbox-paths',
    '/a',
    '--extra-sandbox-paths',
    '/b',
    '--max-jobs',
    '2',
    '--no-out-link',
    'x.nix',
  ]);
  // Settings that a command takes as its own flags (--max-jobs) and other flags stay.
  assert.deepEqual(rest, ['build', '--max-jobs', '2', '--no-out-link', 'x.nix']);
  assert.equal(global.options.get('substituters'), 'file:///c');
  assert.equal(global.options.get('builders-use-substitutes'), 'true');
  assert.equal(global.options.get('require-sigs'), 'false');
  assert.equal(global.options.get('extra-sandbox-paths'), '/a /b');
  // Not settings: left for the command to reject.
  assert.deepEqual(extractGlobalOptions(['eval', '--no-such-setting', '--bogus']).rest, [
    'eval',
    '--no-such-setting',
    '--bogus',
  ]);
});

test("the values of a command's own flags are never taken as options", () => {
  const { rest, global } = extractGlobalOptions(['build', '--argstr', 'tag', '--quiet', '-A', '-Q', '-v']);
  assert.deepEqual(rest, ['build', '--argstr', 'tag', '--quiet', '-A', '-Q']);
  assert.equal(global.verbosity, 1);
  assert.equal(global.buildOutput, undefined);
});

test('the building commands keep their own setting flags; elsewhere those are settings too', () => {
  const build = extractGlobalOptions(['--store', 'x', 'build', '--cores', '2', '--timeout', '5']);
  assert.deepEqual(build.rest, ['build', '--cores', '2', '--timeout', '5']);
  const realise = extractGlobalOptions(['store', 'realise', '--max-jobs', '2']);
  assert.deepEqual(realise.rest, ['store', 'realise', '--max-jobs', '2']);
  const evalArgs = extractGlobalOptions([
    'eval',
    '--cores',
    '2',
    '--timeout',
    '5',
    '--no-sandbox',
    '-E',
    '1',
  ]);
  assert.deepEqual(evalArgs.rest, ['eval', '-E', '1']);
  assert.equal(evalArgs.global.options.get('cores'), '2');
  assert.equal(evalArgs.global.options.get('timeout'), '5');
  assert.equal(evalArgs.global.options.get('sandbox'), 'false');
  assert.equal(extractGlobalOptions(['build', '--relaxed-sandbox']).global.options.get('sandbox'), 'relaxed');
  assert.equal(extractGlobalOptions(['build', '--sandbox']).global.options.get('sandbox'), 'true');
});
