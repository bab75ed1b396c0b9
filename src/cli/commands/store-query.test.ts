// `tix store query` against `nix-store --query` of Nix 2.8 on the same store contents (the same
// derivations instantiated and built in a tix store and in a Nix store), in the same run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { NIX_SANDBOX_CONF, noNix, runCli, runCliOnStore, runNix } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-store-query-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const file = join(tmp, 'chain.nix');
writeFileSync(
  file,
  `let
  src = builtins.toFile "src.txt" "hello";
  mk = name: deps: derivation {
    inherit name;
    system = builtins.currentSystem;
    builder = "/bin/sh";
    args = [ "-c" "echo \${name} \${toString deps} \${src} > $out" ];
  };
  a = mk "a" [ ];
  b = mk "b" [ a ];
  c = mk "c" [ b a ];
  d = mk "d" [ c.drvPath ];
in { inherit a b c d; }
`,
);

let drv: Record<string, string> = {};
let out: Record<string, string> = {};

before(async () => {
  if (noNix) return;
  const names = ['a', 'b', 'c', 'd'];
  const inst = runNix(tmp, 'nix-instantiate', [file, ...names.flatMap((n) => ['-A', n])]);
  assert.equal(inst.status, 0, inst.stderr);
  const drvs = inst.stdout.toString().trim().split('\n');
  drv = Object.fromEntries(names.map((n, i) => [n, drvs[i]!]));
  const nb = runNix(tmp, 'nix-build', ['--no-out-link', file, '-A', 'c'], { conf: NIX_SANDBOX_CONF });
  assert.equal(nb.status, 0, nb.stderr);
  const tb = await runCliOnStore(tmp, 'tix-root', ['build', '--no-out-link', file, '-A', 'c']);
  assert.equal(tb.code, 0, tb.stderr);
  assert.equal(tb.stdout, nb.stdout.toString());
  const ti = await runCliOnStore(tmp, 'tix-root', ['instantiate', file, '-A', 'd']);
  assert.equal(ti.stdout.trim(), drv.d);
  const q = (p: string) => runNix(tmp, 'nix-store', ['-q', p]).stdout.toString().trim();
  out = Object.fromEntries(['a', 'b', 'c'].map((n) => [n, q(drv[n]!)]));
});

async function same(args: string[]): Promise<string> {
  const ours = await runCliOnStore(tmp, 'tix-root', ['store', 'query', ...args]);
  const theirs = runNix(tmp, 'nix-store', ['--query', ...args]);
  const what = args.join(' ');
  assert.equal(ours.stdout, theirs.stdout.toString(), what);
  assert.equal(ours.code, theirs.status, `${what}: ${ours.stderr} / ${theirs.stderr}`);
  return ours.stdout;
}

test('queries print what nix-store --query 2.8 prints', { skip: noNix }, async () => {
  const src = (await same(['--references', drv.a!])).trim();
  assert.match(src, /-src\.txt$/);
  assert.equal(await same([drv.c!]), `${out.c}\n`);
  await same(['--outputs', drv.a!, out.b!, drv.c!]);
  for (const q of ['--requisites', '-R', '--references', '--referrers', '--referrers-closure']) {
    for (const p of [drv.d!, drv.c!, drv.a!, out.c!, out.a!, src]) await same([q, p]);
  }
  await same(['-R', '--include-outputs', drv.d!]);
  await same(['-R', '--use-output', drv.c!]);
  await same(['-u', '--references', drv.b!]);
  await same(['--deriver', out.c!, drv.c!, src]);
  await same(['-d', out.a!]);
  await same(['--binding', 'name', drv.c!, out.b!]);
  await same(['-b', 'args', drv.a!]);
  await same(['--hash', out.c!, drv.c!, src]);
  await same(['--size', '-u', drv.c!, src]);
  await same(['--tree', drv.d!]);
  await same(['--tree', out.c!, drv.b!]);
  await same(['--graph', drv.d!]);
  await same(['--graph', '-u', drv.c!]);
  await same(['--graphml', drv.d!]);
  await same(['--graphml', '-u', drv.c!]);
  await same(['--resolve', out.c!, `${out.a}/`]);
  const invalid = '/nix/store/00000000000000000000000000000000-nothing';
  for (const args of [
    [out.c!, drv.a!],
    ['--print-invalid', out.c!, invalid, drv.d!],
    [drv.a!, invalid],
  ]) {
    const ours = await runCliOnStore(tmp, 'tix-root', ['store', 'check-validity', ...args]);
    const theirs = runNix(tmp, 'nix-store', ['--check-validity', ...args]);
    assert.equal(ours.code, theirs.status, args.join(' '));
    assert.equal(ours.stdout, theirs.stdout.toString(), args.join(' '));
    assert.equal(ours.stderr, theirs.stderr, args.join(' '));
  }
});

test('errors: an invalid path, a missing binding, two query types', { skip: noNix }, async () => {
  const invalid = '/nix/store/00000000000000000000000000000000-nothing';
  const r = await runCliOnStore(tmp, 'tix-root', ['store', 'query', '--references', invalid]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `error: path '${invalid}' is not valid\n`);
  const b = await runCliOnStore(tmp, 'tix-root', ['store', 'query', '-b', 'nope', drv.a!]);
  assert.equal(b.code, 1);
  assert.equal(b.stderr, `error: derivation '${drv.a}' has no environment binding named 'nope'\n`);
  const two = await runCliOnStore(tmp, 'tix-root', ['store', 'query', '-R', '--tree', drv.a!]);
  assert.notEqual(two.code, 0);
  assert.match(two.stderr, /conflicts with earlier flag/);
});

test('--roots lists the GC roots that keep a path alive; ./result links resolve', {
  skip: noNix,
}, async () => {
  const link = join(tmp, 'result');
  const built = await runCliOnStore(tmp, 'tix-root', ['build', '-o', link, file, '-A', 'b']);
  assert.equal(built.code, 0, built.stderr);
  const roots = await runCliOnStore(tmp, 'tix-root', ['store', 'query', '--roots', out.a!]);
  assert.equal(roots.stdout, `${link} -> ${out.b}\n`, roots.stderr);
  const viaLink = await runCliOnStore(tmp, 'tix-root', ['store', 'query', '--resolve', link]);
  assert.equal(viaLink.stdout, `${out.b}\n`);
  const none = await runCliOnStore(tmp, 'tix-root', ['store', 'query', '--roots', out.c!]);
  assert.equal(none.stdout, '');
});

test('print-env, verify PATH and repair as nix-store --print-env, --verify-path, --repair-path', {
  skip: noNix,
}, async () => {
  const env = await runCliOnStore(tmp, 'tix-root', ['store', 'print-env', drv.c!]);
  const nixEnv = runNix(tmp, 'nix-store', ['--print-env', drv.c!]);
  assert.equal(env.stdout, nixEnv.stdout.toString());
  assert.match(env.stdout, /^export _args; _args=''-c' 'echo c /m);
  const clean = await runCliOnStore(tmp, 'tix-root', ['store', 'verify', out.a!, out.c!]);
  assert.equal(clean.code, 0, clean.stderr);
  assert.equal(clean.stderr, '');
  for (const root of ['tix-root', 'nix-root']) {
    const real = join(tmp, root, out.a!);
    chmodSync(real, 0o644);
    writeFileSync(real, 'damaged\n');
  }
  const ours = await runCliOnStore(tmp, 'tix-root', ['store', 'verify', out.c!, out.a!]);
  const theirs = runNix(tmp, 'nix-store', ['--verify-path', out.c!, out.a!]);
  assert.equal(ours.code, theirs.status);
  assert.equal(ours.code, 1);
  assert.equal(ours.stderr, theirs.stderr);
  const repaired = await runCliOnStore(tmp, 'tix-root', ['store', 'repair', out.a!, out.c!]);
  assert.equal(repaired.code, 0, repaired.stderr);
  assert.match(repaired.stderr, /repairing outputs of '.*-a\.drv'/);
  const nixRepaired = runNix(tmp, 'nix-store', ['--repair-path', out.a!], { conf: NIX_SANDBOX_CONF });
  assert.equal(nixRepaired.status, 0, nixRepaired.stderr);
  assert.deepEqual(readFileSync(join(tmp, 'tix-root', out.a!)), readFileSync(join(tmp, 'nix-root', out.a!)));
  const after = await runCliOnStore(tmp, 'tix-root', ['store', 'verify', out.a!]);
  assert.equal(after.code, 0, after.stderr);
  const src = (
    await runCliOnStore(tmp, 'tix-root', ['store', 'query', '--references', drv.a!])
  ).stdout.trim();
  const real = join(tmp, 'tix-root', src);
  chmodSync(real, 0o644);
  writeFileSync(real, 'damaged\n');
  const cannot = await runCliOnStore(tmp, 'tix-root', ['store', 'repair', src]);
  assert.equal(cannot.code, 1);
  assert.equal(cannot.stderr, `error: cannot repair path '${src}'\n`);
});

test('dump-db, load-db and register-validity read and write what nix-store 2.8 does', {
  skip: noNix,
}, async () => {
  const closure = runNix(tmp, 'nix-store', ['-qR', drv.d!]).stdout.toString().trim().split('\n');
  const args = [out.b!, ...closure];
  const ours = await runCliOnStore(tmp, 'tix-root', ['store', 'dump-db', ...args]);
  const theirs = runNix(tmp, 'nix-store', ['--dump-db', ...args]);
  assert.equal(ours.code, 0, ours.stderr);
  assert.equal(ours.stdout, theirs.stdout.toString());
  // The files of the closure copied into two empty stores, then registered from Nix's dump there.
  for (const root of ['loaded', 'registered']) {
    mkdirSync(join(tmp, root, 'nix', 'store'), { recursive: true });
    for (const p of closure) execFileSync('cp', ['-a', join(tmp, 'nix-root', p), join(tmp, root, p)]);
  }
  const dump = runNix(tmp, 'nix-store', ['--dump-db', ...closure]).stdout;
  const loaded = await runCli(['--store', `local?root=${join(tmp, 'loaded')}`, 'store', 'load-db'], {
    cwd: tmp,
    env: { HOME: tmp, TIX_CONF_DIR: join(tmp, 'etc'), TIX_USER_CONF_FILES: '', PATH: process.env.PATH },
    stdin: dump,
  });
  assert.equal(loaded.code, 0, loaded.stderr);
  // Without hashes: path, deriver, references (nix-store --register-validity's input).
  const lines = dump.toString().split('\n');
  const plain: string[] = [];
  for (let k = 0; k < lines.length - 1; ) {
    plain.push(lines[k]!); // path
    k += 3; // hash and size dropped
    plain.push(lines[k]!); // deriver
    const n = Number(lines[k + 1]);
    plain.push(...lines.slice(k + 1, k + 2 + n));
    k += 2 + n;
  }
  const registered = await runCli(
    ['--store', `local?root=${join(tmp, 'registered')}`, 'store', 'register-validity'],
    {
      cwd: tmp,
      env: { HOME: tmp, TIX_CONF_DIR: join(tmp, 'etc'), TIX_USER_CONF_FILES: '', PATH: process.env.PATH },
      stdin: `${plain.join('\n')}\n`,
    },
  );
  assert.equal(registered.code, 0, registered.stderr);
  for (const root of ['loaded', 'registered']) {
    const again = await runCliOnStore(tmp, root, ['store', 'dump-db', ...closure]);
    assert.equal(again.stdout, dump.toString(), root);
    const verify = await runCliOnStore(tmp, root, ['store', 'verify', '--check-contents']);
    assert.equal(verify.code, 0, verify.stderr);
  }
  const bad = await runCli(['--store', `local?root=${join(tmp, 'loaded')}`, 'store', 'load-db'], {
    cwd: tmp,
    env: { HOME: tmp, TIX_CONF_DIR: join(tmp, 'etc'), TIX_USER_CONF_FILES: '', PATH: process.env.PATH },
    stdin: `${closure[0]}\nnot-a-hash\n`,
  });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error: .*: the NAR hash at line 2 of the registrations on stdin\n$/);
});
