// builtins.fetchMercurial on local repositories, with the system's hg: clean (the tip of
// "default"), a branch, a node id with a name, an unclean working tree (tracked files only, with
// Nix's warning), and the errors; each compared with nix-instantiate 2.8 in the same run.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { noNix, runNix } from '../cli/run-cli.test-util.js';
import { evalError, evalPrint } from './test-util.js';

const haveHg = spawnSync('hg', ['--version']).status === 0;

describe('fetchMercurial', { skip: haveHg ? false : 'Mercurial (hg) is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tix-fetch-hg-'));
  const repo = join(dir, 'repo');
  const savedCache = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = join(dir, 'tix-cache');
  after(() => {
    if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = savedCache;
    rmSync(dir, { recursive: true, force: true });
  });
  const hg = (...args: string[]) =>
    execFileSync('hg', ['-R', repo, ...args], { encoding: 'utf8', env: { ...process.env, HGPLAIN: '' } });
  const commit = (msg: string, time: number) =>
    hg('commit', '-q', '-u', 'tix <t@x>', '-d', `${time} 0`, '-m', msg);

  mkdirSync(join(repo, 'sub'), { recursive: true });
  execFileSync('hg', ['init', repo]);
  writeFileSync(join(repo, 'a.txt'), 'one\n');
  writeFileSync(join(repo, 'sub', 'b.txt'), 'b\n');
  hg('add', '-q', join(repo, 'a.txt'), join(repo, 'sub', 'b.txt'));
  commit('first', 1700000000);
  const first = hg('log', '-r', '.', '--template', '{node}');
  hg('branch', '-q', 'stable');
  writeFileSync(join(repo, 'a.txt'), 'stable\n');
  commit('on stable', 1700000100);
  hg('update', '-q', 'default');
  writeFileSync(join(repo, 'a.txt'), 'two\n');
  commit('second', 1700000200);
  const tip = hg('log', '-r', 'default', '--template', '{node}');

  /** tix's printed value (and its warnings), and Nix 2.8's when it is installed. */
  const both = (expr: string) => {
    const warnings: string[] = [];
    const ours = evalPrint(expr, { trace: (l) => warnings.push(l) });
    if (!noNix) {
      const theirs = runNix(dir, 'nix-instantiate', ['--eval', '--strict', '-E', expr]);
      assert.equal(theirs.status, 0, theirs.stderr);
      assert.equal(ours, theirs.stdout.toString().trim(), expr);
      for (const w of warnings) assert.ok(theirs.stderr.includes(w), `${w} / ${theirs.stderr}`);
    }
    return { ours, warnings };
  };

  test('a clean repository: the tip of default, with its rev, revCount and branch', () => {
    const { ours, warnings } = both(`builtins.fetchMercurial ${repo}`);
    assert.match(
      ours,
      new RegExp(
        `^\\{ branch = "default"; outPath = "/nix/store/[a-z0-9]{32}-source"; rev = "${tip}"; revCount = 2; shortRev = "${tip.slice(0, 12)}"; \\}$`,
      ),
    );
    assert.deepEqual(warnings, []);
    // A `rev` that is no node id names a branch or tag.
    const stable = both(`builtins.fetchMercurial { url = "file://${repo}"; rev = "stable"; }`).ours;
    assert.match(stable, /branch = "stable";.* revCount = 1;/);
    const named = both(`builtins.fetchMercurial { url = ${repo}; rev = "${first}"; name = "foo"; }`).ours;
    assert.match(
      named,
      new RegExp(`outPath = "/nix/store/[a-z0-9]{32}-foo"; rev = "${first}"; revCount = 0;`),
    );
    // The tree is what `hg archive` gives, without its .hg_archival.txt.
    const archive = join(dir, 'expected-first');
    mkdirSync(join(archive, 'sub'), { recursive: true });
    writeFileSync(join(archive, 'a.txt'), 'one\n');
    writeFileSync(join(archive, 'sub', 'b.txt'), 'b\n');
    const expected = evalPrint(`builtins.path { path = ${archive}; name = "foo"; }`);
    assert.ok(named.includes(`outPath = ${expected};`), `${named} / ${expected}`);
  });

  test('an unclean working tree: its tracked files as they are, no rev, and a warning', () => {
    const work = join(dir, 'work');
    cpSync(repo, work, { recursive: true });
    writeFileSync(join(work, 'a.txt'), 'edited\n');
    writeFileSync(join(work, 'untracked.txt'), 'not copied\n');
    mkdirSync(join(work, 'stray'));
    writeFileSync(join(work, 'stray', 'x'), 'not copied\n');
    const { ours, warnings } = both(`builtins.fetchMercurial ${work}`);
    assert.deepEqual(warnings, [`warning: Mercurial tree '${work}' is unclean`]);
    const tracked = join(dir, 'expected-work');
    mkdirSync(join(tracked, 'sub'), { recursive: true });
    writeFileSync(join(tracked, 'a.txt'), 'edited\n');
    writeFileSync(join(tracked, 'sub', 'b.txt'), 'b\n');
    const expected = evalPrint(`builtins.path { path = ${tracked}; name = "source"; }`);
    assert.equal(
      ours,
      `{ branch = "default"; outPath = ${expected}; rev = "${'0'.repeat(40)}"; shortRev = "000000000000"; }`,
    );
  });

  test('errors: unknown revision, bad branch name, bad argument, no url', () => {
    assert.equal(
      evalError(`builtins.fetchMercurial { url = ${repo}; rev = "nosuch"; }`).message,
      'hg failed with exit code 255',
    );
    assert.equal(
      evalError(`builtins.fetchMercurial "${join(dir, 'nothere')}"`).message,
      'hg failed with exit code 255',
    );
    assert.equal(
      evalError(`builtins.fetchMercurial { url = ${repo}; rev = "no such"; }`).message,
      "invalid Mercurial branch/tag name 'no such'",
    );
    assert.equal(
      evalError(`builtins.fetchMercurial { url = ${repo}; foo = 1; }`).message,
      "unsupported argument 'foo' to 'fetchMercurial'",
    );
    assert.equal(evalError('builtins.fetchMercurial { rev = "tip"; }').message, "'url' argument required");
    if (!noNix) {
      for (const expr of [
        `builtins.fetchMercurial { url = ${repo}; rev = "nosuch"; }`,
        `builtins.fetchMercurial { url = ${repo}; rev = "no such"; }`,
      ]) {
        const theirs = runNix(dir, 'nix-instantiate', ['--eval', '--strict', '-E', expr]);
        assert.equal(theirs.status, 1);
        assert.ok(theirs.stderr.includes(evalError(expr).message), `${expr}: ${theirs.stderr}`);
      }
    }
  });
});
