// `tix repl` with piped input, against Nix 2.8's `nix repl` given the same lines: each input's
// printed result must be the same (Nix's prompts, echo and colours removed). Bindings, `:a`, `:l`,
// `:r`, `:b` and errors are checked on tix alone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { noNix, runCli } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-repl-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const store = ['--store', `local?root=${join(tmp, 'root')}`];
const env = { HOME: tmp, TIX_CONF_DIR: join(tmp, 'etc'), TIX_USER_CONF_FILES: '', PATH: process.env.PATH };
const repl = (input: string) => runCli([...store, 'repl'], { cwd: tmp, env, stdin: input });

/** Inputs (a multi-line one continues while cut short) whose results Nix 2.8 prints too. */
const CASES = [
  '1 + 2',
  '{ a = 1; b = { c = 2; }; d = [ 1 [ 2 ] ]; s = "hi"; f = x: x; }',
  ':p { b = { c = [ 1 { d = 2; } ]; }; e = 1.5; }',
  ':t map',
  ':t 1',
  ':t "s"',
  ':t { }',
  ':t (x: x)',
  ':t builtins.map (x: x)',
  '(x: x)',
  'builtins.map',
  '[ (builtins.map (x: x)) 1.5 null true false (-3) ]',
  'let s = { x = 1; }; in [ s s ]',
  'let s = { x = 1; }; in { a = s; b = s; }',
  '"a\\nb\\t${"x"}\\${y}\\"q\\""',
  '{ "a b" = 1; "if" = 2; "1x" = 3; x-y = 4; }',
  'x = 3',
  'x * 2',
  'map = 3',
  'map',
  'let y = 1;\n  in y +\n  1',
  '{ a = assert false; 1; b = 2; }',
  'derivation { name = "d"; system = "x86_64-linux"; builder = "/bin/sh"; }',
  '[ (derivation { name = "d"; system = "x86_64-linux"; builder = "/bin/sh"; }) ]',
];
const MARK = '"--8<--"';

describe('tix repl', () => {
  it('prints what Nix 2.8 nix repl prints for the same inputs', { skip: noNix }, async () => {
    const r = await repl(CASES.join(`\n${MARK}\n`));
    assert.equal(r.code, 0, r.stderr);
    const ours = r.stdout.split(`${MARK}\n`);
    const nix = spawnSync('nix', ['--extra-experimental-features', 'nix-command', 'repl'], {
      input: `${CASES.join('\n')}\n`,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        HOME: tmp,
        NIX_REMOTE: `local?root=${join(tmp, 'nix-root')}`,
        NIX_CONF_DIR: join(tmp, 'nix-etc'),
      },
    });
    // Nix: "nix-repl> " + the echoed input lines + the result + a blank line, per input.
    const segments = nix.stdout
      .replace(/\x1b\[[0-9;]*m/g, '')
      .split('nix-repl> ')
      .slice(1, CASES.length + 1);
    assert.equal(segments.length, CASES.length, nix.stdout + nix.stderr);
    CASES.forEach((input, i) => {
      const rest = segments[i]!.split('\n').slice(input.split('\n').length).join('\n');
      const theirs = rest.replace(/\n+$/, '');
      assert.equal(ours[i]!.replace(/\n+$/, ''), theirs, `input ${JSON.stringify(input)}`);
    });
  });

  it('bindings, :a, :l, :r, :b, :log and errors', async () => {
    writeFileSync(join(tmp, 'lib.nix'), '{ z ? 1 }: { fromFile = z + 1; f = a: a * 10; }');
    const input = [
      ':l ./lib.nix',
      'fromFile',
      'f 4',
      'y = fromFile + 1',
      'y',
      ':a { q = 7; }',
      'q',
      ':r',
      'q',
      'fromFile',
      'throw "boom"',
      ':zz',
      ':e map',
      ':i 1',
      'undefinedName',
      ':b derivation { name = "from-repl"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo built-in-repl; echo hi > $out" ]; }',
      ':log derivation { name = "from-repl"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo built-in-repl; echo hi > $out" ]; }',
      ':b 1',
      ':q',
      '"after quit"',
    ].join('\n');
    const r = await repl(input);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Added 2 variables\.\n2\n40\n3\nAdded 1 variables\.\n7\nAdded 2 variables\.\n2\n/,
    );
    assert.match(
      r.stdout,
      /This derivation produced the following outputs:\n {2}out -> \/nix\/store\/[a-z0-9]{32}-from-repl\n/,
    );
    assert.match(r.stdout, /built-in-repl\n/);
    assert.ok(!r.stdout.includes('after quit'));
    assert.match(r.stderr, /error: undefined variable 'q'/);
    assert.match(r.stderr, /error: boom/);
    assert.match(r.stderr, /error: unknown command ':zz'/);
    assert.match(r.stderr, /error: package 'map' has no source location information/);
    assert.match(r.stderr, /error: ':i' is not supported by tix repl/);
    assert.match(r.stderr, /error: undefined variable 'undefinedName'\n\n {7}at «string»:1:1:/);
    assert.match(r.stderr, /error: expression does not evaluate to a derivation, so I can't build it/);
  });
});

describe('tix repl :s and :u', {
  skip: existsSync('/nix/store')
    ? false
    : 'needs /nix/store to mount the store on (the stdenv is a store path)',
}, () => {
  const bin = join(new URL('../../../', import.meta.url).pathname.replace(/\/dist\/$/, '/'), 'bin/tix');
  const dir = join(tmp, 'shells');
  const run = (input: string, extraEnv: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [bin, ...store, 'repl'], {
      cwd: tmp,
      input,
      env: { ...env, NIX_BUILD_SHELL: 'bash', ...extraEnv },
      encoding: 'utf8',
    });
  // A stand-in stdenv (its setup defines runHook) makes the shell run the shellHook.
  const stdenv = join(dir, 'stdenv');
  mkdirSync(stdenv, { recursive: true });
  writeFileSync(join(stdenv, 'setup'), 'runHook() { eval "${!1}"; }\n');
  const mk = (name: string, extra: string) =>
    `derivation { name = "${name}"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo ${name} > $out" ]; ${extra} }`;

  it(':s builds the inputs, then runs the shell (its hook here), and the repl goes on', () => {
    const input = `dep = ${mk('repl-dep', '')}\n:s ${mk('repl-main', `inherit dep; stdenv = ${stdenv}; shellHook = "echo in the shell of $name; read x < $dep; echo dep says $x";`)}\n1 + 1\n`;
    const r = run(input);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /in the shell of repl-main\n/);
    assert.match(r.stderr, /building '\/nix\/store\/[a-z0-9]{32}-repl-dep\.drv'/);
    assert.match(r.stdout, /\n2\n$/);
    assert.match(r.stdout, /dep says repl-dep\n/);
  });

  it(":u puts the derivation in a <nixpkgs> runCommand's buildInputs and builds it first", () => {
    const nixpkgs = join(dir, 'nixpkgs');
    mkdirSync(nixpkgs, { recursive: true });
    writeFileSync(
      join(nixpkgs, 'default.nix'),
      `{ ... }: { runCommand = name: env: cmd: derivation ({ inherit name; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" cmd ]; stdenv = ${stdenv}; shellHook = "echo inputs: $buildInputs"; } // env); }\n`,
    );
    const r = run(`:u ${mk('repl-tool', '')}\n`, { NIX_PATH: `nixpkgs=${nixpkgs}` });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /inputs: \/nix\/store\/[a-z0-9]{32}-repl-tool\n/);
    assert.match(r.stderr, /building '\/nix\/store\/[a-z0-9]{32}-repl-tool\.drv'/);
  });

  it('a shell that exits non-zero is an error, and the repl goes on', () => {
    const r = run(`:s ${mk('repl-fail', `stdenv = ${stdenv}; shellHook = "exit 3";`)}\n"after"\n`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^error: program 'tix shell' failed with exit code 3$/m);
    assert.match(r.stdout, /"after"\n$/);
  });
});

describe('tix repl :e', () => {
  it('opens a file, a function at its line or a package at meta.position in $EDITOR, then reloads', () => {
    const bin = join(new URL('../../../', import.meta.url).pathname.replace(/\/dist\/$/, '/'), 'bin/tix');
    const dir = join(tmp, 'edit');
    mkdirSync(dir, { recursive: true });
    // An "editor" with vim in its name (so it is given +LINE) that records its arguments.
    const fakeVim = join(dir, 'fakevim');
    writeFileSync(fakeVim, `#!/bin/sh\necho "$@" >> ${join(dir, 'opened')}\n`);
    chmodSync(fakeVim, 0o755);
    writeFileSync(join(dir, 'f.nix'), '{\n  answer = 42;\n  twice = x:\n    x * 2;\n}\n');
    const input = [
      `:l ${join(dir, 'f.nix')}`,
      `:e ${join(dir, 'f.nix')}`,
      'twice',
      ':e { meta.position = "/src/pkgs/hello.nix:17"; }',
      ':e { }',
      'answer',
    ].join('\n');
    const r = spawnSync(process.execPath, [bin, ...store, 'repl'], {
      cwd: dir,
      input: `${input}\n:e twice\n`,
      env: { ...env, EDITOR: fakeVim },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      readFileSync(join(dir, 'opened'), 'utf8'),
      `${join(dir, 'f.nix')}\n+17 /src/pkgs/hello.nix\n+3 ${join(dir, 'f.nix')}\n`,
    );
    assert.match(r.stderr, /^error: package '\{ \}' has no source location information$/m);
    // Reloading after each edit keeps what :l loaded.
    assert.match(r.stdout, /\n42\n/);
  });
});
