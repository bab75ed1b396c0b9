// nix-instantiate behaviour of runSession (what `tix eval` and `tix instantiate` run), checked
// against Nix 2.8 itself when it is installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryEvalIO } from './io-memory.js';
import { type EvalRequest, runSession } from './session.js';

const haveNix =
  spawnSync('nix-instantiate', ['--version'], { encoding: 'utf8' }).stdout?.includes('2.8') ?? false;
const skip = haveNix ? undefined : 'nix-instantiate 2.8 is not installed';

const dir = mkdtempSync(join(tmpdir(), 'tix-session-'));
mkdirSync(join(dir, 'etc'));
writeFileSync(
  join(dir, 'etc/nix.conf'),
  'sandbox = false\nbuild-users-group =\nsubstituters =\nexperimental-features = nix-command\n',
);
const FILE = join(dir, 'default.nix');
writeFileSync(
  FILE,
  `{ n ? 1, s ? "x" }: rec {
  a = { x = n; y = [ s 2.5 null ]; f = { p, q ? 1, ... }: p; held = (v: { inherit v; w = v; }) [ 1 ]; };
  drv = derivation { name = "hello-\${s}"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo \${toString n} > $out" ]; };
  multi = derivation { name = "m"; system = "x86_64-linux"; builder = "\${drv}/bin/sh"; outputs = [ "out" "dev" ]; dep = drv.drvPath; };
  nested = { recurseForDerivations = true; inner = multi.dev; };
}
`,
);

function tix(req: Partial<EvalRequest>, storeWriteDir?: string): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const full: EvalRequest = {
    mode: 'eval',
    exprs: [{ kind: 'file', text: FILE }],
    attrPaths: [],
    args: [],
    strict: false,
    json: false,
    xml: false,
    location: true,
    nixPath: [],
    cwd: dir,
    env: { HOME: '/fake-home' },
    showTrace: false,
    ...req,
  };
  const code = runSession(full, new MemoryEvalIO({ storeWriteDir }), {
    stdout: (d) => (out += d),
    stderr: (d) => (err += d),
  });
  return { code, out: Buffer.from(out, 'latin1').toString('utf8'), err };
}

function nix(args: string[], store = 'dummy://'): { code: number; out: string; err: string } {
  const r = spawnSync('nix-instantiate', args, {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: '/fake-home', NIX_REMOTE: store, NIX_CONF_DIR: join(dir, 'etc') },
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const EVAL_FLAGS: [string[], Partial<EvalRequest>][] = [
  [['-A', 'a'], { attrPaths: ['a'] }],
  // An argument never forced is still a thunk: `{ v = <CODE>; w = <CODE>; }`.
  [['-A', 'a.held'], { attrPaths: ['a.held'] }],
  [['--strict', '-A', 'a'], { attrPaths: ['a'], strict: true }],
  [['--json', '--strict', '-A', 'a.y'], { attrPaths: ['a.y'], json: true, strict: true }],
  [['--xml', '--strict', '-A', 'a'], { attrPaths: ['a'], xml: true, strict: true }],
  [['--xml', '--no-location', '-A', 'a'], { attrPaths: ['a'], xml: true, location: false }],
  [
    ['--strict', '--arg', 'n', '41 + 1', '--argstr', 's', 'str', '-A', 'a'],
    {
      attrPaths: ['a'],
      strict: true,
      args: [
        { name: 'n', kind: 'expr', value: '41 + 1' },
        { name: 's', kind: 'str', value: 'str' },
      ],
    },
  ],
  [
    ['--strict', '-A', 'drv.outPath', '-A', 'drv.drvPath'],
    { attrPaths: ['drv.outPath', 'drv.drvPath'], strict: true },
  ],
];

test('tix eval prints exactly what nix-instantiate --eval prints', { skip }, () => {
  for (const [flags, req] of EVAL_FLAGS) {
    const n = nix(['--eval', ...flags, FILE]);
    const t = tix(req);
    assert.equal(n.code, 0, n.err);
    assert.equal(t.code, 0, t.err);
    assert.equal(t.out, n.out, flags.join(' '));
  }
  const e = tix({ exprs: [{ kind: 'expr', text: '{ a = 1 +; }' }] });
  assert.equal(e.code, 1);
  assert.match(e.err, /^error: syntax error, unexpected ';'/);
});

test('tix instantiate writes the same .drv files and prints the same paths', { skip }, () => {
  const root = join(dir, 'nixroot');
  const n = nix(['-A', 'nested', '-A', 'drv', '-A', 'multi', FILE], `local?root=${root}`);
  assert.equal(n.code, 0, n.err);
  const storeDir = join(dir, 'tixstore');
  mkdirSync(storeDir);
  const t = tix({ mode: 'instantiate', attrPaths: ['nested', 'drv', 'multi'] }, storeDir);
  assert.equal(t.code, 0, t.err);
  assert.equal(t.out, n.out);
  assert.match(t.err, /you did not specify '--add-root'/);
  for (const line of t.out.trim().split('\n')) {
    const drv = line.split('!')[0]!;
    const base = drv.slice('/nix/store/'.length);
    assert.deepEqual(readFileSync(join(storeDir, base)), readFileSync(join(root, 'nix/store', base)), base);
  }
});

test('errors from inherited names are reported where nix-instantiate reports them', { skip }, () => {
  const cases = {
    'inherit-var.nix': '{\n  a = 1;\n  inherit   zz;\n}\n',
    'inherit-from.nix': 'let s = { }; in {\n  a = 1;\n  inherit (s)  zz;\n}\n',
  };
  for (const [name, text] of Object.entries(cases)) {
    const file = join(dir, name);
    writeFileSync(file, text);
    const n = nix(['--eval', '--strict', file]);
    const t = tix({ exprs: [{ kind: 'file', text: file }], strict: true });
    assert.equal(n.code, 1, n.err);
    assert.equal(t.code, 1, t.err);
    assert.equal(t.err, n.err, name);
  }
});
