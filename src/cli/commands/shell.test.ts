// `tix shell` against Nix 2.8's nix-shell on the same files: the environment a --pure shell
// sees, the rc file it runs, $stdenv/setup and shellHook, structured attrs, exit statuses and
// errors; then what only tix can be asked here (nix-shell would need <nixpkgs> or its own builds):
// inputs built before the shell starts, --exclude, --dry-run, a .drv argument, shell.nix first.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { noNix, runNix } from '../run-cli.test-util.js';

const repo = new URL('../../../', import.meta.url).pathname.replace(/\/dist\/$/, '/');
const bin = join(repo, 'bin/tix');
const tmp = mkdtempSync(join(tmpdir(), 'tix-shell-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const drv = (attrs: string) => `derivation ({
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" "echo built > $out" ];
} // ${attrs})`;

/** A directory with `files`; returns its path. */
function project(name: string, files: Record<string, string>): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  return dir;
}

const SHELL_ENV = { NIX_BUILD_SHELL: 'bash', TZ: 'Europe/Paris' };
/** tix's environment in these tests: no configuration files, HOME in the test directory. */
const TIX_ENV = {
  PATH: process.env.PATH,
  HOME: tmp,
  TIX_CONF_DIR: join(tmp, 'etc'),
  TIX_USER_CONF_FILES: '',
};

function tixShell(cwd: string, args: string[], env: NodeJS.ProcessEnv = SHELL_ENV) {
  const r = spawnSync(
    process.execPath,
    [bin, '--store', `local?root=${join(tmp, 'tix-root')}`, 'shell', ...args],
    {
      cwd,
      env: { ...TIX_ENV, ...env },
    },
  );
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function nixShell(cwd: string, args: string[], env: NodeJS.ProcessEnv = SHELL_ENV) {
  const r = runNix(tmp, 'nix-shell', args, { cwd, root: 'nix-root', env });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr };
}

/**
 * Store paths must exist where the shell sees them: for tests that read inputs in the shell, each
 * side runs in its own mount namespace with a private directory bind-mounted on /nix (as the
 * multi-host harness does), tix on its default local store and Nix 2.8 on its own.
 */
const noNamespace =
  process.getuid?.() !== 0
    ? 'needs root for a mount namespace with its own /nix'
    : !existsSync('/nix') || spawnSync('unshare', ['--mount', 'true']).status !== 0
      ? 'needs unshare and a /nix mount point'
      : false;

function inOwnNix(nixDir: string, cmd: string[], cwd: string, env: NodeJS.ProcessEnv) {
  mkdirSync(nixDir, { recursive: true });
  const r = spawnSync(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount --bind "$0" /nix && exec "$@"',
      nixDir,
      ...cmd,
    ],
    { cwd, env: { PATH: process.env.PATH, HOME: tmp, ...env } },
  );
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function tixShellNs(cwd: string, args: string[], env: NodeJS.ProcessEnv = SHELL_ENV) {
  const conf = { ...TIX_ENV, ...env };
  return inOwnNix(
    join(tmp, 'tix-ns'),
    [process.execPath, bin, '--store', 'local?root=/', 'shell', ...args],
    cwd,
    conf,
  );
}

function nixShellNs(cwd: string, args: string[], env: NodeJS.ProcessEnv = SHELL_ENV) {
  const etc = join(tmp, 'nix-ns-etc');
  mkdirSync(etc, { recursive: true });
  writeFileSync(join(etc, 'nix.conf'), 'sandbox = false\nbuild-users-group =\nsubstituters =\n');
  const conf = { NIX_CONF_DIR: etc, NIX_USER_CONF_FILES: join(etc, 'none'), ...env };
  return inOwnNix(join(tmp, 'nix-ns'), ['nix-shell', ...args], cwd, conf);
}

/** The shell's own directory is named after the process: the same text once that is replaced. */
const normal = (s: string) => s.replace(/nix-shell-\d+-\d+/g, 'nix-shell-PID-N');

const basic = project('basic', {
  'shell.nix': `{ inNixShell ? false }: ${drv(`{
    name = "shell-test";
    FOO = "foo value with 'quotes' and é";
    inShell = inNixShell;
    inShellEnv = builtins.getEnv "IN_NIX_SHELL";
    passAsFile = [ "big" "other" ];
    big = "big text";
    other = "other text";
    src = ./shell.nix;
  }`)}\n`,
  'default.nix': drv('{ name = "not-this-one"; }'),
});

const withStdenv = project('stdenv', {
  'stdenv/setup': 'runHook() { eval "${!1}"; }\nexport SETUP_SOURCED=yes\n',
  'default.nix': drv(`{
    name = "with-stdenv";
    stdenv = ./stdenv;
    shellHook = "echo hook ran with $SETUP_SOURCED; HOOKED=1";
    __structuredAttrs = true;
    list = [ "a" "b c" ];
    set = { x = "1"; y = 2; };
    flag = true;
  }`),
});

describe('tix shell, as nix-shell 2.8', { skip: noNix }, () => {
  it('gives a --pure shell the same environment', () => {
    const args = ['--pure', '--run', '/usr/bin/env'];
    const ours = tixShell(basic, args);
    const theirs = nixShell(basic, args);
    assert.equal(theirs.status, 0, theirs.stderr);
    assert.equal(ours.status, 0, ours.stderr);
    const lines = (s: string) => normal(s).split('\n').sort();
    assert.deepEqual(lines(ours.stdout), lines(theirs.stdout));
    // What that environment holds: the attributes, the function's argument, passAsFile files.
    assert.match(ours.stdout, /^inShell=1$/m);
    assert.match(ours.stdout, /^inShellEnv=pure$/m);
    assert.match(ours.stdout, /^bigPath=.*\/nix-shell-\d+-\d+\/\.attr-0$/m);
    assert.match(ours.stdout, /^FOO=foo value with 'quotes' and é$/m);
    assert.doesNotMatch(ours.stdout, /^big=/m);
  });

  it('runs the same rc file, and the files beside it hold the passAsFile values', () => {
    const args = ['--run', 'cat "$0"; echo; cat "$bigPath" "$otherPath"'];
    const ours = tixShell(basic, args);
    const theirs = nixShell(basic, args);
    assert.equal(theirs.status, 0, theirs.stderr);
    assert.equal(ours.status, 0, ours.stderr);
    assert.equal(normal(ours.stdout), normal(theirs.stdout));
    assert.match(ours.stdout, /big textother text$/);
    assert.match(ours.stdout, /^_nix_shell_clean_tmpdir\(\) \{ command rm -rf '\/.*'; \}; trap/);
  });

  it('sources $stdenv/setup, runs the shellHook and declares structured attrs as Nix does', {
    skip: noNamespace,
  }, () => {
    const args = [
      '--pure',
      '--run',
      'echo "$HOOKED $SETUP_SOURCED"; declare -p list set flag; /bin/cat "$NIX_ATTRS_JSON_FILE"',
    ];
    const ours = tixShellNs(withStdenv, args);
    const theirs = nixShellNs(withStdenv, args);
    assert.equal(theirs.status, 0, theirs.stderr);
    assert.equal(ours.status, 0, ours.stderr);
    assert.equal(ours.stdout, theirs.stdout);
    assert.match(ours.stdout, /^hook ran with yes\n1 yes\n/);
    assert.match(ours.stdout, /declare -a list=\(\[0\]="a" \[1\]="b c"\)/);
    assert.match(ours.stdout, /"outputs":\{"out":"\/1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9"\}/);
  });

  it('resolves exportReferencesGraph of structured attrs from the built inputs, as Nix does', {
    skip: noNamespace,
  }, () => {
    const graph = project('graph', {
      'default.nix': `let dep = ${drv('{ name = "graph-dep"; }')}; in ${drv(`{
        name = "with-graph";
        __structuredAttrs = true;
        exportReferencesGraph.closure = [ dep ];
      }`)}\n`,
    });
    const args = ['--run', 'cat "$NIX_ATTRS_JSON_FILE"'];
    const ours = tixShellNs(graph, args);
    const theirs = nixShellNs(graph, args);
    assert.equal(theirs.status, 0, theirs.stderr);
    assert.equal(ours.status, 0, ours.stderr);
    assert.equal(ours.stdout, theirs.stdout);
    assert.match(
      ours.stdout,
      /"closure":\[\{"closureSize":\d+,"narHash":"sha256:\w{52}","narSize":\d+,"path":"\/nix\/store\/\w{32}-graph-dep","references":\[\]\}\]/,
    );
  });

  it("exits with the shell's status, and keeps TZ and --keep variables", () => {
    for (const [args, env] of [
      [['--run', 'exit 7'], SHELL_ENV],
      [
        ['--pure', '--keep', 'KEEP_ME', '--run', 'echo "$TZ $KEEP_ME ${DROP_ME-dropped}"'],
        { ...SHELL_ENV, KEEP_ME: 'kept', DROP_ME: 'x' },
      ],
      [['--command', 'echo "$IN_NIX_SHELL"'], SHELL_ENV],
    ] as const) {
      const ours = tixShell(basic, [...args], env);
      const theirs = nixShell(basic, [...args], env);
      assert.equal(ours.status, theirs.status, `${args.join(' ')}: ${ours.stderr}`);
      assert.equal(ours.stdout, theirs.stdout);
    }
    assert.equal(tixShell(basic, ['--run', 'exit 7']).status, 7);
    assert.equal(
      tixShell(basic, ['--pure', '--keep', 'KEEP_ME', '--run', 'echo "$TZ $KEEP_ME ${DROP_ME-dropped}"'], {
        ...SHELL_ENV,
        KEEP_ME: 'kept',
        DROP_ME: 'x',
      }).stdout,
      'Europe/Paris kept dropped\n',
    );
  });

  it('runs a #! nix-shell script with its interpreter and arguments, from another directory', () => {
    project('scripts', {
      'shell.nix': `{ inNixShell ? false }: ${drv('{ name = "script-env"; GREETING = "hello from the derivation"; }')}\n`,
      'run.sh': [
        '#! /usr/bin/env nix-shell',
        '#! nix-shell -i bash shell.nix',
        '#! nix-shell --keep KEEP_ME --argstr unused "two words"',
        'echo "$GREETING [$1] [$2] $# $KEEP_ME $IN_NIX_SHELL"',
        'exit 4',
        '',
      ].join('\n'),
      'run.pl':
        '#! /usr/bin/env nix-shell\n#! nix-shell -i perl shell.nix\nprint "perl: $ENV{GREETING} @ARGV\\n";\n',
    });
    const env = { ...SHELL_ENV, KEEP_ME: 'kept' };
    for (const script of ['run.sh', 'run.pl']) {
      const args = [join('scripts', script), 'a', 'b c'];
      const ours = tixShell(tmp, args, env);
      const theirs = nixShell(tmp, args, env);
      assert.equal(ours.status, theirs.status, ours.stderr);
      assert.equal(ours.stdout, theirs.stdout);
    }
    assert.equal(
      tixShell(tmp, ['scripts/run.sh', 'a', 'b c'], env).stdout,
      'hello from the derivation [a] [b c] 2 kept impure\n',
    );
    assert.equal(tixShell(tmp, ['scripts/run.sh'], env).status, 4);
    assert.equal(tixShell(tmp, ['scripts/run.pl', 'x'], env).stdout, 'perl: hello from the derivation x\n');
  });

  it('refuses what is not one derivation, and -p without <nixpkgs>, as Nix does', () => {
    const two = tixShell(basic, ['-E', `{ a = ${drv('{ name = "a"; }')}; b = ${drv('{ name = "b"; }')}; }`]);
    const twoNix = nixShell(basic, [
      '-E',
      `{ a = ${drv('{ name = "a"; }')}; b = ${drv('{ name = "b"; }')}; }`,
    ]);
    assert.equal(two.status, 1);
    assert.equal(twoNix.status, 1);
    assert.match(two.stderr, /^error: tix shell requires a single derivation$/m);
    assert.match(twoNix.stderr, /^error: nix-shell requires a single derivation$/m);
    const p = tixShell(basic, ['-p', 'hello', '--run', 'true'], { ...SHELL_ENV, NIX_PATH: '' });
    const pNix = nixShell(basic, ['-p', 'hello', '--run', 'true'], { ...SHELL_ENV, NIX_PATH: '' });
    assert.equal(p.status, 1);
    assert.equal(pNix.status, 1);
    const first = (s: string) => s.split('\n')[0];
    assert.equal(first(p.stderr), first(pNix.stderr));
    assert.equal(
      first(p.stderr),
      "error: file 'nixpkgs' was not found in the Nix search path (add it using $NIX_PATH or -I)",
    );
  });

  it("says it uses the environment's bash when there is no NIX_BUILD_SHELL and no <nixpkgs>", () => {
    const env = { NIX_PATH: '' };
    const ours = tixShell(basic, ['--run', 'echo ok'], env);
    const theirs = nixShell(basic, ['--run', 'echo ok'], env);
    assert.equal(ours.status, 0, ours.stderr);
    assert.equal(ours.stdout, 'ok\n');
    assert.equal(ours.stdout, theirs.stdout);
    // Nix 2.8 prints the evaluation error of <nixpkgs>' bashInteractive first; tix only the notice.
    assert.equal(ours.stderr, 'will use bash from your environment\n');
    assert.match(
      theirs.stderr,
      /^error: file 'nixpkgs' was not found[\s\S]*\nwill use bash from your environment\n$/,
    );
  });

  it('prints why <nixpkgs> gave no bashInteractive when there is one', () => {
    const fake = project('fake-nixpkgs', {
      'default.nix': '{ ... }: { bashInteractive = throw "no bash here"; }\n',
    });
    const env = { NIX_PATH: `nixpkgs=${fake}` };
    const ours = tixShell(basic, ['--run', 'echo ok'], env);
    const theirs = nixShell(basic, ['--run', 'echo ok'], env);
    assert.equal(ours.status, 0, ours.stderr);
    assert.equal(theirs.status, 0, theirs.stderr);
    assert.equal(ours.stderr, theirs.stderr);
    assert.equal(ours.stderr, 'error: no bash here\nwill use bash from your environment\n');
  });
});

describe('tix shell', () => {
  const deps = project('deps', {
    'default.nix': `let dep = ${drv('{ name = "dep"; }')}; in ${drv('{ name = "main"; inherit dep; }')}\n`,
  });

  it('builds the inputs first, and not those --exclude names', { skip: noNamespace }, () => {
    const ours = tixShellNs(deps, ['--run', 'read x < "$dep"; echo "dep says $x"']);
    assert.equal(ours.status, 0, ours.stderr);
    assert.equal(ours.stdout, 'dep says built\n');
    assert.match(ours.stderr, /^this derivation will be built:\n {2}\/nix\/store\/\w{32}-dep\.drv$/m);
    // The output of the shell's own derivation is never built.
    assert.doesNotMatch(ours.stderr, /main\.drv/);

    const excluded = project('excluded', {
      'default.nix': `let dep = ${drv('{ name = "dep2"; }')}; in ${drv('{ name = "main2"; inherit dep; }')}\n`,
    });
    const ex = tixShellNs(excluded, [
      '--exclude',
      'dep2\\.drv$',
      '--run',
      '[ -e "$dep" ] && echo there || echo missing',
    ]);
    assert.equal(ex.status, 0, ex.stderr);
    assert.equal(ex.stdout, 'missing\n');
  });

  it('shows a store with a root at its store directory, so that inputs can be read', {
    skip: existsSync('/nix/store') ? false : 'needs /nix/store to mount the store on',
  }, () => {
    const viaRoot = project('via-root', {
      'default.nix': `let dep = ${drv('{ name = "dep4"; }')}; in ${drv('{ name = "main4"; inherit dep; }')}\n`,
    });
    const r = tixShell(viaRoot, ['--run', 'read x < "$dep"; echo "dep says $x"; echo "$NIX_STORE"']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'dep says built\n/nix/store\n');
    // The store on disk is below its root, not in the machine's /nix/store.
    assert.match(r.stderr, /building '\/nix\/store\/\w{32}-dep4\.drv'/);
    assert.equal(existsSync(join(tmp, 'tix-root/nix/store')), true);
  });

  it("builds <nixpkgs>' bashInteractive and runs it when NIX_BUILD_SHELL is not set", {
    skip: existsSync('/nix/store') ? false : 'needs /nix/store to mount the store on',
  }, () => {
    const fake = project('nixpkgs-with-bash', {
      'default.nix': `{ ... }: { bashInteractive = ${drv('{ name = "bash-interactive"; args = [ "-c" "mkdir -p $out/bin && ln -s /bin/bash $out/bin/bash" ]; }')}; }\n`,
    });
    const r = tixShell(basic, ['--run', 'echo "$SHELL"; echo "${PATH%%:*}"'], {
      NIX_PATH: `nixpkgs=${fake}`,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^\/nix\/store\/\w{32}-bash-interactive\/bin\/bash\n\/nix\/store\/\w{32}-bash-interactive\/bin\n$/,
    );
    assert.match(r.stderr, /building '\/nix\/store\/\w{32}-bash-interactive\.drv'/);
  });

  it('is interactive on a terminal: the prompt, then the status of `exit`', {
    skip: spawnSync('script', ['--version']).status === 0 ? false : 'needs script(1) for a terminal',
  }, () => {
    const cmd = `${process.execPath} ${bin} --store local?root=${join(tmp, 'tix-root')} shell`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
      cwd: basic,
      input: 'echo "in=$IN_NIX_SHELL hook=${HOOKED-none}"; echo "ps=$PS1"\nexit 5\n',
      env: { ...TIX_ENV, ...SHELL_ENV },
    });
    const out = r.stdout.toString();
    assert.equal(r.status, 5, out + r.stderr.toString());
    assert.match(out, /in=impure hook=none/);
    assert.match(out, /ps=\\n\\\[\\033\[1;32m\\\]\[nix-shell:\\w\]/);
  });

  it("the inputs the shell's variables name survive a garbage collection while it runs (runtime roots)", async () => {
    const kept = project('kept', {
      'default.nix': `let dep = ${drv('{ name = "dep-kept"; }')}; in ${drv('{ name = "main-kept"; inherit dep; }')}\n`,
    });
    const marker = join(kept, 'started');
    const store = ['--store', `local?root=${join(tmp, 'tix-root-gc')}`];
    const env = { ...TIX_ENV, ...SHELL_ENV };
    // Built by an earlier shell, so this one finds the input valid and builds nothing.
    const first = spawnSync(process.execPath, [bin, ...store, 'shell', '--run', 'true'], {
      cwd: kept,
      env,
      encoding: 'utf8',
    });
    assert.equal(first.status, 0, first.stderr);
    const child = spawn(
      process.execPath,
      [bin, ...store, 'shell', '--run', `echo "$dep" > ${marker}; sleep 3`],
      {
        cwd: kept,
        env,
        stdio: 'ignore',
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 60_000;
    while (!existsSync(marker) || readFileSync(marker, 'utf8') === '') {
      assert.ok(Date.now() < deadline, 'the shell did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    const dep = readFileSync(marker, 'utf8').trim();
    const gc = spawnSync(process.execPath, [bin, ...store, 'store', 'gc'], {
      cwd: kept,
      env,
      encoding: 'utf8',
    });
    assert.equal(gc.status, 0, gc.stderr);
    assert.equal(existsSync(join(tmp, 'tix-root-gc', dep)), true, `${dep} was collected: ${gc.stderr}`);
    assert.equal(await exited, 0);
    // Once the shell is gone, nothing holds it.
    const after = spawnSync(process.execPath, [bin, ...store, 'store', 'gc'], {
      cwd: kept,
      env,
      encoding: 'utf8',
    });
    assert.equal(after.status, 0, after.stderr);
    assert.equal(existsSync(join(tmp, 'tix-root-gc', dep)), false);
  });

  it('--dry-run says what would be built and starts no shell', () => {
    const dry = project('dry', {
      'default.nix': `let dep = ${drv('{ name = "dep3"; }')}; in ${drv('{ name = "main3"; inherit dep; }')}\n`,
    });
    const r = tixShell(dry, ['--dry-run', '--run', 'echo SHELL RAN']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /this derivation will be built:\n {2}\/nix\/store\/\w{32}-dep3\.drv/);
    assert.doesNotMatch(r.stderr, /building '/);
  });

  it('takes a .drv path, an attribute and a file; shell.nix before default.nix', () => {
    const inst = spawnSync(
      process.execPath,
      [bin, '--store', `local?root=${join(tmp, 'tix-root')}`, 'instantiate', join(basic, 'default.nix')],
      {
        cwd: basic,
        env: TIX_ENV,
      },
    );
    const drvPath = inst.stdout.toString().trim();
    assert.match(drvPath, /-not-this-one\.drv$/);
    assert.equal(tixShell(basic, [drvPath, '--run', 'echo $name']).stdout, 'not-this-one\n');
    assert.equal(tixShell(basic, ['--run', 'echo $name']).stdout, 'shell-test\n');
    assert.equal(tixShell(basic, ['default.nix', '--run', 'echo $name']).stdout, 'not-this-one\n');
    const fromStdin = spawnSync(
      process.execPath,
      [bin, '--store', `local?root=${join(tmp, 'tix-root')}`, 'shell', '-', '--run', 'echo $name'],
      {
        cwd: basic,
        input: drv('{ name = "from-stdin"; }'),
        env: { ...TIX_ENV, ...SHELL_ENV },
      },
    );
    assert.equal(fromStdin.stdout.toString(), 'from-stdin\n', fromStdin.stderr.toString());
    const attrs = project('attrs', { 'default.nix': `{ a = ${drv('{ name = "attr-a"; }')}; }\n` });
    assert.equal(tixShell(attrs, ['-A', 'a', '--run', 'echo $name']).stdout, 'attr-a\n');
  });

  it('--check builds the inputs again and fails on one that is not deterministic', () => {
    const checked = project('checked', {
      'default.nix': `let dep = ${drv('{ name = "dep-random"; args = [ "-c" "echo $RANDOM$RANDOM > $out" ]; }')}; in ${drv('{ name = "main6"; inherit dep; }')}\n`,
    });
    assert.equal(tixShell(checked, ['--run', 'true']).status, 0);
    const r = tixShell(checked, ['--check', '--run', 'echo SHELL RAN']);
    assert.equal(r.status, 104, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /dep-random\.drv' may not be deterministic: output '[^']*\/nix\/store\/\w{32}-dep-random' differs/,
    );
  });

  it('starts no shell when an input fails to build, and exits as nix-shell does (100)', () => {
    const failing = project('failing', {
      'default.nix': `let dep = ${drv('{ name = "dep-fails"; args = [ "-c" "echo failing; exit 3" ]; }')}; in ${drv('{ name = "main5"; inherit dep; }')}\n`,
    });
    const r = tixShell(failing, ['--run', 'echo SHELL RAN']);
    assert.equal(r.status, 100, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /error: builder for '\/nix\/store\/\w{32}-dep-fails\.drv' failed with exit code 3/,
    );
  });

  it('fails with a clear error when the shell cannot be run', () => {
    const r = tixShell(basic, ['--run', 'true'], { NIX_BUILD_SHELL: join(tmp, 'no-such-shell') });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: executing shell '.*no-such-shell': No such file or directory$/m);
  });

  it('refuses flags that do not go together, and unknown ones, before evaluating anything', () => {
    const both = tixShell(basic, ['-p', 'hello', '-E', '1']);
    assert.equal(both.status, 1);
    assert.match(both.stderr, /^error: '-p' and '-E' are mutually exclusive$/m);
    const unknown = tixShell(basic, ['--frobnicate']);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /^error: unrecognised flag '--frobnicate'$/m);
    // -i means something only in a #! script.
    assert.match(tixShell(basic, ['-i', 'bash']).stderr, /^error: unrecognised flag '-i'$/m);
  });
});
