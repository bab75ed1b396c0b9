import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { EvalRequest } from '../../eval/session.js';
import { cliSettings } from '../cli-settings.js';
import type { CommandContext } from '../command.js';
import { buildRequest, evalIOSpec, readStdinArgs, splitNixPath } from './eval-common.js';

function ctx(env: NodeJS.ProcessEnv = {}, store?: string, stdin = ''): CommandContext {
  return {
    out: new PassThrough(),
    err: new PassThrough(),
    stdin: async function* () {
      yield Buffer.from(stdin);
    },
    env,
    cwd: '/work',
    global: {
      options: new Map([['system', 'aarch64-linux']]),
      store,
      showTrace: true,
      debug: false,
      json: false,
    },
  };
}

/** buildRequest with the command's settings (no configuration files are read). */
function request(argv: string[], c: CommandContext, mode: EvalRequest['mode']): EvalRequest {
  return buildRequest(
    argv,
    c,
    mode,
    cliSettings({ ...c, env: { ...c.env, TIX_CONF_DIR: '/nonexistent', TIX_USER_CONF_FILES: '' } }),
  );
}

test('NIX_PATH splits on ":" but keeps URLs whole', () => {
  assert.deepEqual(splitNixPath('a=/x:/y::nixpkgs=https://example.org/a.tar.gz:c=/z'), [
    'a=/x',
    '/y',
    'nixpkgs=https://example.org/a.tar.gz',
    'c=/z',
  ]);
});

test('nix-instantiate flags become an evaluation request', () => {
  const r = request(
    [
      '--strict',
      '-E',
      '{ x }: x',
      '-A',
      'a.b',
      '--arg',
      'x',
      '1 + 1',
      '--argstr',
      'y',
      's',
      '-I',
      'p=/q',
      '--json',
      '--no-location',
    ],
    ctx({ NIX_PATH: 'n=/m' }),
    'eval',
  );
  assert.deepEqual(r.exprs, [{ kind: 'expr', text: '{ x }: x' }]);
  assert.deepEqual(r.attrPaths, ['a.b']);
  assert.deepEqual(r.args, [
    { name: 'x', kind: 'expr', value: '1 + 1' },
    { name: 'y', kind: 'str', value: 's' },
  ]);
  assert.deepEqual(r.nixPath, ['p=/q', 'n=/m']);
  assert.equal(r.strict && r.json && !r.location && !r.xml, true);
  assert.equal(r.currentSystem, 'aarch64-linux');
  assert.equal(r.showTrace, true);
  assert.deepEqual(request([], ctx(), 'instantiate').exprs, [{ kind: 'file', text: './default.nix' }]);
  assert.throws(() => request(['--bogus'], ctx(), 'eval'), /unrecognised flag '--bogus'/);
});

test('"-" reads the expression from standard input', async () => {
  const c = ctx({}, undefined, '1 + 2');
  const r = await readStdinArgs(request(['-'], c, 'eval'), c);
  assert.deepEqual(r.exprs, [{ kind: 'expr', text: '1 + 2' }]);
});

test('--store local?root=R writes added paths below R', () => {
  assert.deepEqual(evalIOSpec(ctx({}, 'local?root=/r')).options, {
    storeDir: '/nix/store',
    storeWriteDir: '/r/nix/store',
  });
  assert.deepEqual(evalIOSpec(ctx({ NIX_STORE_DIR: '/s' })).options, {
    storeDir: '/s',
    storeWriteDir: undefined,
  });
  // TIX_STORE counts as --store does; --store wins.
  assert.equal(evalIOSpec(ctx({ TIX_STORE: 'local?root=/t' })).options.storeWriteDir, '/t/nix/store');
  assert.equal(evalIOSpec(ctx({ TIX_STORE: 'local?root=/t' }, '/u')).options.storeWriteDir, '/u/nix/store');
});

test('--read-write-mode makes --eval write what it adds; --eval-only is --eval', () => {
  assert.equal(request(['-E', '1'], ctx(), 'eval').readWrite, false);
  assert.equal(request(['--read-write-mode', '-E', '1'], ctx(), 'eval').readWrite, true);
  assert.equal(request(['--read-write-mode', '-E', '1'], ctx(), 'instantiate').readWrite, false);
  assert.equal(request(['--eval-only', '-E', '1'], ctx(), 'eval').exprs.length, 1);
});

test('the experimental-features setting reaches the request', () => {
  const c = ctx();
  c.global.options.set('experimental-features', 'flakes');
  assert.deepEqual(request(['-E', '1'], c, 'eval').experimentalFeatures, ['flakes']);
  assert.deepEqual(request(['-E', '1'], ctx(), 'eval').experimentalFeatures, []);
});
