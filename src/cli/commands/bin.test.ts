// Runs the compiled `bin/tix` as a user would (after `npx tsc -p .`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isolatedEnv, noNix, runNix } from '../run-cli.test-util.js';

const repo = new URL('../../../', import.meta.url).pathname.replace(/\/dist\/$/, '/');
const bin = join(repo, 'bin/tix');
const built = existsSync(join(repo, 'dist/src/cli/tix.js'));
const tmp = mkdtempSync(join(tmpdir(), 'tix-bin-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function tix(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer } = {}) {
  const r = spawnSync(process.execPath, [bin, '--store', `local?root=${join(tmp, 'root')}`, ...args], {
    cwd: tmp,
    env: { ...isolatedEnv(tmp), ...opts.env },
    input: opts.input,
  });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe('bin/tix', { skip: built ? false : 'dist/ is not built (run npx tsc -p .)' }, () => {
  it('answers --help with a usage and status 0, bin/tix-store and bin/tix-daemon too', () => {
    for (const [exe, args, want] of [
      ['tix', ['store', 'gc', '--help'], /^usage: tix store gc \[FLAGS\]/],
      ['tix-store', ['--help'], /^usage: tix-store --serve \[--write\]/],
      [
        'tix-daemon',
        ['--help'],
        /^usage: tix-daemon \[--stdio\][^\n]*\n\n.*\n\nflags:\n {2}--listen VALUE\n {2}--stdio\n/,
      ],
    ] as const) {
      const r = spawnSync(process.execPath, [join(repo, 'bin', exe), ...args], {
        cwd: tmp,
        env: isolatedEnv(tmp),
      });
      assert.equal(r.status, 0, `${exe}: ${r.stderr}`);
      assert.equal(r.stderr.toString(), '', exe);
      assert.match(r.stdout.toString(), want, exe);
    }
  });

  it('ends quietly, as if by SIGPIPE, when its reader goes away', () => {
    const r = spawnSync(
      'bash',
      [
        '-c',
        `"${process.execPath}" "${bin}" eval --strict -E 'builtins.genList (x: x) 200000' | head -c 5; echo " \${PIPESTATUS[0]}"`,
      ],
      {
        cwd: tmp,
        env: isolatedEnv(tmp),
      },
    );
    assert.equal(r.stdout.toString(), '[ 0 1 141\n');
    assert.equal(r.stderr.toString(), '');
  });

  it('runs with glibc malloc thresholds of its own, unseen by children, unless the user sets any', () => {
    // Whether the process started with tix's thresholds, and what its environment shows.
    const expr =
      '[ (builtins.length (builtins.split "MALLOC_TRIM_THRESHOLD_=268435456" (builtins.readFile /proc/self/environ))) (builtins.getEnv "MALLOC_TRIM_THRESHOLD_") (builtins.getEnv "MALLOC_MMAP_THRESHOLD_") (builtins.getEnv "TIX_MALLOC_SET") ]';
    const run = (env: NodeJS.ProcessEnv) => {
      // Run as a script (its sh line sets them), not through node.
      const r = spawnSync(
        bin,
        ['--store', `local?root=${join(tmp, 'root')}`, 'eval', '--strict', '-E', expr],
        {
          cwd: tmp,
          env: { ...isolatedEnv(tmp), ...env },
        },
      );
      assert.equal(r.status, 0, r.stderr.toString());
      return r.stdout.toString().trim();
    };
    assert.equal(run({}), '[ 3 "" "" "" ]');
    assert.equal(run({ MALLOC_TRIM_THRESHOLD_: '1000' }), '[ 1 "1000" "" "" ]');
    assert.equal(run({ GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=1000' }), '[ 1 "" "" "" ]');
  });

  it('adds a file and prints its path', () => {
    writeFileSync(join(tmp, 'greeting.txt'), 'Hello, Nix!\n');
    const r = tix(['store', 'add', 'greeting.txt']);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, '/nix/store/hyqv6qj126byaw1aasq4rvxa1lr502fp-greeting.txt\n');
    assert.equal(r.status, 0);
  });

  it('warns about unknown and unsupported settings with their place', () => {
    const r = tix(
      [
        '--option',
        'frobnicate',
        '1',
        'path-info',
        '/nix/store/hyqv6qj126byaw1aasq4rvxa1lr502fp-greeting.txt',
      ],
      {
        env: { TIX_CONFIG: 'plugin-files = /x.so' },
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stderr,
      "warning: ignoring setting 'plugin-files' in 'TIX_CONFIG:1': not supported by tix (plugins are not supported)\n" +
        "warning: unknown setting 'frobnicate' in '--option'\n",
    );
  });

  it('fails with one line on a bad configuration file, without a stack trace', () => {
    const etc = join(tmp, 'etc');
    rmSync(etc, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', etc]);
    writeFileSync(join(etc, 'tix.conf'), 'cores = 2\nkeep-going = perhaps\n');
    const r = tix(['store', 'add', 'greeting.txt'], { env: { TIX_CONF_DIR: etc } });
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr,
      `error: Boolean setting 'keep-going' has invalid value 'perhaps' in '${etc}/tix.conf:2'\n`,
    );
  });

  it('rejects a malformed derivation on stdin with its position', () => {
    const r = tix(['derivation', 'add'], { input: 'Derive([("out","/nix/store/x","","")' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: .*<stdin>.*\n$/);
  });

  it('shows a derivation byte-exactly like nix show-derivation', () => {
    const drv = readFileSync('/work/shared/vectors/worked/drv/p2qkh6lklg7zljx468xsl3gwif574nq4-dep.drv');
    assert.equal(
      tix(['derivation', 'add'], { input: drv }).stdout,
      '/nix/store/p2qkh6lklg7zljx468xsl3gwif574nq4-dep.drv\n',
    );
    const r = tix(['derivation', 'show', '/nix/store/p2qkh6lklg7zljx468xsl3gwif574nq4-dep.drv']);
    assert.equal(r.stdout, readFileSync('/work/shared/vectors/worked/json/show-derivation-dep.json', 'utf8'));
  });

  it('hashes like nix hash path', { skip: noNix }, () => {
    const r = tix(['hash', 'path', '--base32', 'greeting.txt']);
    const n = runNix(tmp, 'nix', ['hash', 'path', '--base32', 'greeting.txt']);
    assert.equal(r.stdout, n.stdout.toString());
  });
});
