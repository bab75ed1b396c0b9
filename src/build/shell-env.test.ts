// nixShellSetup's choices, one by one (commands/shell.test.ts compares whole shells with Nix 2.8).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BasicDerivation } from '../formats/derivation.js';
import { nixShellSetup, type ShellEnvOptions } from './shell-env.js';

const drv = (env: Record<string, string>): BasicDerivation => ({
  name: 'x',
  outputs: new Map([
    ['out', { path: '/nix/store/00000000000000000000000000000000-x', hashAlgo: '', hash: '' }],
  ]),
  inputSrcs: [],
  system: 'x86_64-linux',
  builder: '/bin/sh',
  args: [],
  env: new Map(Object.entries(env)),
});

const opts = (o: Partial<ShellEnvOptions> = {}): ShellEnvOptions => ({
  callerEnv: { HOME: '/home/u', EDITOR: 'vi', PATH: '/bin', IN_NIX_SHELL: 'impure' },
  pure: false,
  keep: [],
  tmpDir: '/tmp/nix-shell-1-0',
  storeDir: '/nix/store',
  buildCores: 4,
  shell: 'bash',
  command: '',
  ...o,
});

test('impure keeps the whole environment; --pure only its list and --keep', () => {
  const impure = nixShellSetup(drv({ a: '1' }), opts()).env;
  assert.equal(impure.get('EDITOR'), 'vi');
  assert.equal(impure.get('__ETC_PROFILE_SOURCED'), undefined);
  const pure = nixShellSetup(drv({ a: '1' }), opts({ pure: true })).env;
  assert.equal(pure.get('EDITOR'), undefined);
  assert.equal(pure.get('HOME'), '/home/u');
  assert.equal(pure.get('__ETC_PROFILE_SOURCED'), '1');
  assert.equal(nixShellSetup(drv({}), opts({ pure: true, keep: ['EDITOR'] })).env.get('EDITOR'), 'vi');
  // The derivation's attributes win over the caller's variables; names come out sorted.
  const env = nixShellSetup(drv({ HOME: '/homeless', b: '2', a: '1' }), opts()).env;
  assert.equal(env.get('HOME'), '/homeless');
  assert.deepEqual([...env.keys()], [...env.keys()].sort());
});

test('the temporary directory variables name the caller’s TMPDIR, not the shell’s own directory', () => {
  const env = nixShellSetup(drv({}), opts({ callerEnv: { TMPDIR: '/var/tmp' } })).env;
  for (const k of ['NIX_BUILD_TOP', 'TMPDIR', 'TEMPDIR', 'TMP', 'TEMP']) assert.equal(env.get(k), '/var/tmp');
  assert.equal(
    nixShellSetup(drv({}), opts({ callerEnv: { XDG_RUNTIME_DIR: '/run/u' } })).env.get('TMP'),
    '/run/u',
  );
  assert.equal(nixShellSetup(drv({}), opts({ callerEnv: {} })).env.get('TMP'), '/tmp');
  assert.equal(nixShellSetup(drv({}), opts()).env.get('NIX_BUILD_CORES'), '4');
});

test('passAsFile values become .attr-N files in attribute order; the rc removes them on exit', () => {
  const s = nixShellSetup(drv({ passAsFile: 'z a', z: 'zed', a: 'ay', m: 'em' }), opts());
  assert.deepEqual(
    [...s.files],
    [
      ['.attr-0', 'ay'],
      ['.attr-1', 'zed'],
    ],
  );
  assert.equal(s.env.get('aPath'), '/tmp/nix-shell-1-0/.attr-0');
  assert.equal(s.env.get('zPath'), '/tmp/nix-shell-1-0/.attr-1');
  assert.equal(s.env.get('a'), undefined);
  assert.equal(s.env.get('m'), 'em');
  assert.match(
    s.rc,
    /^_nix_shell_clean_tmpdir\(\) \{ command rm -rf '\/tmp\/nix-shell-1-0'; \}; trap _nix_shell_clean_tmpdir EXIT;/,
  );
  // Without files the directory goes at once.
  assert.match(nixShellSetup(drv({}), opts()).rc, /; \}; _nix_shell_clean_tmpdir; \[ -n "\$PS1" \]/);
});

test('the rc file: PATH rebuilt around stdenv/setup, the shell’s directory first, TZ, the command last', () => {
  const impure = nixShellSetup(
    drv({}),
    opts({ shell: '/opt/bash/bin/bash', command: 'make\nexit', callerEnv: { TZ: "A'B" } }),
  ).rc;
  assert.match(
    impure,
    /p=\$PATH; unset PATH;dontAddDisableDepTrack=1;\n\n\[ -e \$stdenv\/setup \] && source \$stdenv\/setup; PATH=\$PATH:\$p; unset p; PATH='\/opt\/bash\/bin':"\$PATH"; SHELL='\/opt\/bash\/bin\/bash'; BASH='\/opt\/bash\/bin\/bash'; set \+e;/,
  );
  assert.match(impure, /unset TZ; export TZ='A'\\''B'; shopt -s execfail;make\nexit$/);
  const pure = nixShellSetup(drv({}), opts({ pure: true })).rc;
  assert.doesNotMatch(pure, /bashrc|p=\$PATH/);
  assert.match(pure, /PATH='\.':"\$PATH"; SHELL='bash';/);
  assert.match(pure, /unset TZ; shopt -s execfail;$/);
});

test('structured attrs: .attrs.sh inlined in the rc and written with .attrs.json, outputs as placeholders', () => {
  const s = nixShellSetup(drv({ __json: '{}' }), opts({ structuredAttrs: { name: 'x', n: { int: 3n } } }));
  const sh =
    "declare n=3\ndeclare name='x'\ndeclare -A outputs=(['out']='/1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9' )\n";
  assert.equal(s.files.get('.attrs.sh'), sh);
  assert.equal(
    s.files.get('.attrs.json'),
    '{"n":3,"name":"x","outputs":{"out":"/1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9"}}',
  );
  assert.equal(s.env.get('NIX_ATTRS_JSON_FILE'), '/tmp/nix-shell-1-0/.attrs.json');
  assert.ok(s.rc.includes(`dontAddDisableDepTrack=1;\n${sh}\n[ -e $stdenv/setup ]`));
});
