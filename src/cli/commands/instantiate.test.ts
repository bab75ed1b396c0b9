// `tix instantiate` beside nix-instantiate 2.8, in the same run: --parse, --find-file, file
// arguments `<name>` and URLs, the search path's URL and missing entries, --add-root, --dry-run and
// --repair.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { noNix, runCliOnStore, runNix } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-instantiate-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A search path directory `sp` with `<foo>` (a directory with default.nix) and `<foo/bar.nix>`. */
const sp = join(tmp, 'sp');
mkdirSync(join(sp, 'foo'), { recursive: true });
writeFileSync(join(sp, 'foo', 'default.nix'), '{ a = 1; b = { c = "x"; }; }\n');
writeFileSync(join(sp, 'foo', 'bar.nix'), 'x: x + 1\n');
/** A tarball holding one top directory with a default.nix. */
const tarball = join(tmp, 'pkgs.tar.gz');
mkdirSync(join(tmp, 'tb', 'pkgs-1.0'), { recursive: true });
writeFileSync(join(tmp, 'tb', 'pkgs-1.0', 'default.nix'), '{ hello = "world"; }\n');
execFileSync('tar', ['-czf', tarball, '-C', join(tmp, 'tb'), 'pkgs-1.0']);

/** Both run `args`; exit code, stdout and stderr must be the same. */
async function same(args: string[]): Promise<string> {
  const ours = await runCliOnStore(tmp, 'tix-root', ['instantiate', ...args]);
  const theirs = runNix(tmp, 'nix-instantiate', args);
  const what = args.join(' ');
  assert.equal(ours.stderr, theirs.stderr, what);
  assert.equal(ours.stdout, theirs.stdout.toString(), what);
  assert.equal(ours.code, theirs.status, what);
  return ours.stdout;
}

test('--parse shows the parsed expression as nix-instantiate 2.8 does', { skip: noNix }, async () => {
  for (const expr of [
    '1 + 2 * 3 - 4 / 5',
    'x: - x',
    'a: b: a < b && a <= b || a > b -> a >= b',
    'a: !a == (a != a)',
    '{ a.b.c = 1; a.b.d = 2; "x y" = 3; ${"dyn"} = 4; inherit (builtins) map; }',
    'rec { x = 1; y = x; __overrides = { }; }',
    'let x = 1; in let inherit x; in x',
    'let { body = 1; }',
    's: s.a.b or s.${"c"} or null',
    's: s ? a.b && s ? "c d"',
    '[ 1 2.5 1.0e30 0.1 "s" ./rel /abs/p ~/h http://example.org/x?y=1 ]',
    '{ a ? 1, ... }@args: args',
    'args@{ a }: a',
    'x: "a${x}b\\n\\t\\r\\\\\\"\\${}"',
    "x: ''\n  indented ${x}\n    more ''$ '''\n''",
    'x: /p/${x}/q',
    '<nixpkgs> ++ [ <sp/x> ]',
    '__curPos',
    'with builtins; assert true; if true then [ ] else { }',
    '{ "if" = 1; "a-b\'" = 2; "1a" = 3; "" = 4; }',
    'f: f 1 2 (f 3) ({ } // { })',
  ]) {
    await same(['--parse', '-E', expr]);
  }
  await same(['--parse', '-E', 'undefinedVar']);
  await same(['--parse', '-E', '1 +']);
  await same(['--parse', '-I', sp, '<foo>']);
  await same(['--parse', '--parse-only', join(sp, 'foo', 'bar.nix')]);
});

test('a NUL byte in a string literal: cut where 2.8 cuts it, in --parse and in the value', {
  skip: noNix,
}, async () => {
  const files: [string, string][] = [
    ['nul-plain.nix', '"a\0b"'],
    ['nul-plain-interp.nix', '"a\0b${"c"}"'],
    ['nul-ind.nix', "''a\0b''"],
    ['nul-ind-interp.nix', "''a\0b${\"c\"}''"],
  ];
  for (const [name, text] of files) {
    const file = join(tmp, name);
    writeFileSync(file, text);
    await same(['--parse', file]);
    await same(['--eval', file]);
  }
});

test('--find-file looks names up along the search path', { skip: noNix }, async () => {
  await same(['--find-file', '-I', sp, 'foo', 'foo/bar.nix']);
  await same(['--find-file', '-I', `x=${sp}/foo`, 'x/bar.nix', 'x']);
  await same(['--find-file', '-I', sp, 'foo', 'nothere', 'foo/bar.nix']);
  assert.equal(await same(['--find-file']), '');
});

test('a file argument <name> or a URL is evaluated as Nix 2.8 does', { skip: noNix }, async () => {
  await same(['--eval', '-I', sp, '<foo>']);
  await same(['--eval', '-I', sp, '<foo>', '-A', 'b.c']);
  await same(['--eval', '-I', sp, '<foo/bar.nix>', '--arg', 'x', '2']);
  await same(['--eval', '-I', sp, '<nothere>']);
  await same(['--eval', '--strict', `file://${tarball}`, '-A', 'hello']);
});

test('the search path: URL entries are fetched, missing entries warned about once', {
  skip: noNix,
}, async () => {
  await same(['--eval', '-I', `p=file://${tarball}`, '-E', 'import <p>']);
  await same(['--eval', '-I', `p=file://${tarball}`, '-E', '(import <p>).hello + (import <p>).hello']);
  await same(['--eval', '-I', `p=file://${join(tmp, 'nope.tar.gz')}`, '-I', `p=${sp}/foo`, '-E', '<p>']);
  await same(['--eval', '-I', join(tmp, 'nonexistent'), '-I', sp, '-E', '[ <foo> <foo/bar.nix> ]']);
  await same(['--eval', '-I', `x=${join(tmp, 'nonexistent')}`, '-E', '<x/y>']);
  await same(['--eval', '-E', `builtins.findFile [ { prefix = "q"; path = "${sp}/nope"; } ] "q"`]);
});

const DRVS = `let d = n: derivation { name = n; system = "x"; builder = "/bin/sh"; outputs = [ "out" "dev" ]; };
in [ (d "a") (d "b").dev ]`;

test('--add-root makes each .drv a GC root and prints the roots', async () => {
  const root = join(tmp, 'gcroot');
  const r = await runCliOnStore(tmp, 'roots-root', [
    'instantiate',
    '--add-root',
    root,
    '--indirect',
    '-E',
    DRVS,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, `${root}\n${root}-2!dev\n`);
  const plain = await runCliOnStore(tmp, 'roots-root', ['instantiate', '-E', DRVS]);
  const [a, b] = plain.stdout.trim().split('\n');
  // Links to the physical .drv files of this chroot-style store, each registered in gcroots/auto.
  assert.equal(readlinkSync(root), join(tmp, 'roots-root', a!));
  assert.equal(readlinkSync(`${root}-2`), join(tmp, 'roots-root', b!.replace(/!dev$/, '')));
  const targets = execFileSync('find', [
    join(tmp, 'roots-root'),
    '-path',
    '*/gcroots/auto/*',
    '-printf',
    '%l\n',
  ])
    .toString()
    .trim()
    .split('\n');
  assert.deepEqual(targets.sort(), [root, `${root}-2`].sort());
  // The store's GC keeps them.
  const gc = await runCliOnStore(tmp, 'roots-root', ['store', 'gc']);
  assert.equal(gc.code, 0, gc.stderr);
  assert.ok(existsSync(join(tmp, 'roots-root', a!)));
});

test('--dry-run computes .drv paths without writing them', async () => {
  const dry = await runCliOnStore(tmp, 'dry-root', ['instantiate', '--dry-run', '-E', DRVS]);
  assert.equal(dry.code, 0, dry.stderr);
  const [a] = dry.stdout.trim().split('\n');
  assert.ok(!existsSync(join(tmp, 'dry-root', a!)), 'nothing written');
  const real = await runCliOnStore(tmp, 'dry-root', ['instantiate', '-E', DRVS]);
  assert.equal(real.stdout, dry.stdout);
  assert.ok(existsSync(join(tmp, 'dry-root', a!)));
});

test('--repair writes damaged sources and .drv files again', async () => {
  const src = join(tmp, 'src.txt');
  writeFileSync(src, 'source text\n');
  const expr = `derivation { name = "r"; system = "x"; builder = "/bin/sh"; src = ${src}; }`;
  const first = await runCliOnStore(tmp, 'repair-root', ['instantiate', '-E', expr]);
  assert.equal(first.code, 0, first.stderr);
  const drv = join(tmp, 'repair-root', first.stdout.trim());
  const drvText = readFileSync(drv);
  const copy = execFileSync('find', [join(tmp, 'repair-root', 'nix', 'store'), '-name', '*-src.txt'])
    .toString()
    .trim();
  for (const f of [drv, copy]) {
    chmodSync(f, 0o644);
    writeFileSync(f, 'damaged');
  }
  const again = await runCliOnStore(tmp, 'repair-root', ['instantiate', '-E', expr]);
  assert.equal(readFileSync(drv, 'utf8'), 'damaged', 'valid paths are left as they are');
  assert.equal(again.stdout, first.stdout);
  const repaired = await runCliOnStore(tmp, 'repair-root', ['instantiate', '--repair', '-E', expr]);
  assert.equal(repaired.code, 0, repaired.stderr);
  assert.deepEqual(readFileSync(drv), drvText);
  assert.equal(readFileSync(copy, 'utf8'), 'source text\n');
  assert.equal(lstatSync(copy).mode & 0o777, 0o444);
  const verify = await runCliOnStore(tmp, 'repair-root', ['store', 'verify', '--check-contents']);
  assert.equal(verify.code, 0, verify.stderr);
});

test("'<nixpkgs>' as a file argument, without nixpkgs, points at <tix>", async () => {
  const r = await runCliOnStore(tmp, 'tix-root', ['instantiate', '<nixpkgs>', '-A', 'hello']);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    "error: file 'nixpkgs' was not found in the Nix search path (add it using $NIX_PATH or -I)\n" +
      '       tix has no nixpkgs; use <tix> (the package set bundled with tix) or add nixpkgs with -I nixpkgs=PATH\n',
  );
});
