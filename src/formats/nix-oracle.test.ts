// Differential tests against the installed Nix 2.8 (the oracle), in a throw-away chroot store:
// store paths, `.drv` bytes and paths, output paths and `nix show-derivation` JSON must match
// exactly. Everything is evaluated in one nix-instantiate call; other Nix calls are batched.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Derivation, derivationName, parseDerivation, printDerivation } from './derivation.js';
import {
  checkDerivationOutputs,
  derivationPath,
  fillOutputPaths,
  makeInputHasher,
} from './derivation-hash.js';
import { derivationToJson, printDerivationsJson } from './derivation-json.js';
import { type HashAlgo, hashBytes, parseHash, printHash } from './hash.js';
import { makeFixedOutputPath, makeTextPath } from './store-path.js';

const SD = '/nix/store';
const haveNix = spawnSync('nix-instantiate', ['--version']).status === 0;
const skip = haveNix ? false : 'nix-instantiate not found: the Nix 2.8 oracle is unavailable';

let tmp = '';
let env: NodeJS.ProcessEnv = {};

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { env, cwd: tmp, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** A Nix string literal for any JS string (escapes `\`, `"`, `$`, newline, CR, tab). */
function nixStr(s: string): string {
  const esc: Record<string, string> = {
    '\\': '\\\\',
    '"': '\\"',
    $: '\\$',
    '\n': '\\n',
    '\r': '\\r',
    '\t': '\\t',
  };
  return `"${s.replace(/[\\"$\n\r\t]/g, (c) => esc[c]!)}"`;
}

const ALGOS: HashAlgo[] = ['md5', 'sha1', 'sha256', 'sha512'];

function fodCases(): string[] {
  const out: string[] = [];
  let i = 0;
  for (const algo of ALGOS) {
    for (const mode of ['flat', 'recursive']) {
      for (const enc of ['base16', 'nix32', 'base64', 'sri'] as const) {
        const h = hashBytes(algo, `fod ${i}`);
        const hash = printHash(h, enc);
        const algoAttr = enc === 'sri' ? '' : `outputHashAlgo = "${algo}"; `;
        out.push(
          `fod${i} = mk { name = "fod-${algo}-${mode}-${enc}"; outputHashMode = "${mode}"; ${algoAttr}outputHash = "${hash}"; };`,
        );
        i++;
      }
    }
  }
  return out;
}

function plainCases(): string[] {
  const values = [
    '',
    'plain',
    'quote" backslash\\ tab\t cr\r nl\n dollar$ brace${',
    'é ü ß 中文 😀',
    'x'.repeat(5000),
    '\\n is not a newline',
  ];
  const out = values.map(
    (v, i) => `p${i} = mk { name = "plain-${i}"; v = ${nixStr(v)}; args = [ ${nixStr(v)} "-c" "" ]; };`,
  );
  out.push(
    'p6 = mk { name = "types"; n = 42; neg = -7; t = true; f = false; nul = null; l = [ 1 "two" 3 ]; fl = 1.5; };',
    'p7 = mk { name = "ctl"; c = j "\\"\\\\u0001\\\\b\\\\f\\\\u001f\\\\u007f\\""; };',
    'p8 = mk { name = "odd+name?x=1_.-"; builder = "/bin/bash"; system = "aarch64-darwin"; };',
    'p9 = mk { name = "src-file"; src = ./files/a.txt; builder = ./files/build.sh; };',
    'p10 = mk { name = "src-dir"; src = ./files/dir; other = ./files/b.txt; };',
    'p11 = mk { name = "many-env"; } // builtins.listToAttrs (map (i: { name = "k" + toString i; value = toString (i * i); }) (builtins.genList (x: x) 200));',
  );
  return out;
}

const EXPR_TAIL = `
  m1 = mk { name = "multi"; outputs = [ "out" "dev" "lib" "bin" ]; };
  m2 = mk { name = "multi-order"; outputs = [ "bin" "out" ]; };
  m3 = mk { name = "multi-use"; a = m1.dev; b = m1.lib; c = "\${m2}"; outputs = [ "doc" "out" ]; };
  d1 = mk { name = "dep-fod"; a = fod2; b = fod13; c = fod30; };
  d2 = mk { name = "dep-chain"; a = d1; b = m3.doc; args = [ "-c" "\${d1} \${m1.bin}" ]; };
  d3 = mk { name = "dep-chain-2"; a = d2; src = ./files/a.txt; };
  d4 = mk { name = "dep-text"; t = tf t1; u = tf t3; };
  s1 = mk { name = "sa-plain"; __structuredAttrs = true; };
  s2 = mk { name = "sa-nested"; __structuredAttrs = true; outputs = [ "out" "dev" ]; n = { a = [ 1 2.5 "x" null true ]; b = { c = "é\\n\\""; }; }; dep = d1; };
  s3 = mk { name = "sa-fod"; __structuredAttrs = true; outputHashMode = "recursive"; outputHashAlgo = "sha256"; outputHash = "${printHash(hashBytes('sha256', 'sa'), 'nix32')}"; };
  s4 = mk { name = "sa-dep"; __structuredAttrs = true; deps = [ s1 s3 m1.dev ]; };
  pf1 = mk { name = "pass-as-file"; big = "passed as a file"; other = "x"; passAsFile = [ "big" "other" ]; };
  pf2 = mk { name = "pass-as-file-dep"; big = "\${pf1}"; passAsFile = [ "big" ]; };
  # two fixed-output drvs with the same output but different builders: the inputs of
  # i1/i2 hash alike, so i1 and i2 hash alike, and "parent" merges their output names.
  x1 = mk { name = "same"; builder = "/bin/first"; outputHashMode = "recursive"; outputHashAlgo = "sha256"; outputHash = "${printHash(hashBytes('sha256', 'same'), 'base16')}"; };
  x2 = mk { name = "same"; builder = "/bin/second"; outputHashMode = "recursive"; outputHashAlgo = "sha256"; outputHash = "${printHash(hashBytes('sha256', 'same'), 'base16')}"; };
  i1 = mk { name = "inter"; outputs = [ "out" "dev" ]; src = x1; };
  i2 = mk { name = "inter"; outputs = [ "out" "dev" ]; src = x2; };
  parent = mk { name = "parent"; a = i1.out; b = i2.dev; };
  parent2 = mk { name = "parent2"; a = i1.dev; b = i2.dev; c = i1.out; };
  tf = t: builtins.toFile t.n t.c;
  t1 = { n = "t1.txt"; c = "no refs"; };
  t2 = { n = "t2.sh"; c = "cat \${./files/a.txt}\\n"; };
  t3 = { n = "t3"; c = "\${tf t1} \${tf t2} \${./files/dir}"; };
  t4 = { n = "t4.json"; c = builtins.toJSON { x = "é"; y = [ (tf t1) ]; }; };
  t5 = { n = "empty"; c = ""; };
  t6 = { n = "..-odd"; c = "unicode 😀 and \${./files/b.txt}"; };
  texts = { inherit t1 t2 t3 t4 t5 t6; };
  info = d: {
    drvPath = d.drvPath;
    outputs = builtins.listToAttrs (map (o: { name = o; value = d.\${o}.outPath; }) (d.outputs or [ "out" ]));
  };
in {
  drvs = builtins.mapAttrs (n: info) (builtins.removeAttrs cases' [ "texts" "info" ]);
  texts = builtins.mapAttrs (n: t: { path = tf t; contents = t.c; refs = builtins.attrNames (builtins.getContext t.c); }) texts;
}`;

function expression(): string {
  const bindings = [...plainCases(), ...fodCases()];
  const names = [
    ...bindings.map((b) => b.split(' ')[0]!),
    'm1',
    'm2',
    'm3',
    'd1',
    'd2',
    'd3',
    'd4',
    's1',
    's2',
    's3',
    's4',
    'pf1',
    'pf2',
    'x1',
    'x2',
    'i1',
    'i2',
    'parent',
    'parent2',
  ];
  return `let
  mk = attrs: derivation ({ system = "x86_64-linux"; builder = "/bin/sh"; } // attrs);
  j = builtins.fromJSON;
  ${bindings.join('\n  ')}
  cases' = { inherit ${names.join(' ')}; };${EXPR_TAIL.replace('\nin {', '\nin {')}`;
}

interface EvalResult {
  drvs: Record<string, { drvPath: string; outputs: Record<string, string> }>;
  texts: Record<string, { path: string; contents: string; refs: string[] }>;
}

let result: EvalResult;
const drvCache = new Map<string, Derivation>();

function readDrv(p: string): Derivation {
  let d = drvCache.get(p);
  if (!d) {
    d = parseDerivation(readFileSync(join(tmp, 'root', p)), { name: derivationName(p), path: p });
    drvCache.set(p, d);
  }
  return d;
}

before(() => {
  if (!haveNix) return;
  tmp = mkdtempSync(join(tmpdir(), 'tix-oracle-'));
  mkdirSync(join(tmp, 'etc'));
  writeFileSync(
    join(tmp, 'etc', 'nix.conf'),
    'sandbox = false\nbuild-users-group =\nsubstituters =\nexperimental-features = nix-command\n',
  );
  env = {
    PATH: process.env.PATH,
    NIX_REMOTE: `local?root=${join(tmp, 'root')}`,
    NIX_CONF_DIR: join(tmp, 'etc'),
    HOME: join(tmp, 'home'),
    XDG_CACHE_HOME: join(tmp, 'cache'),
  };
  mkdirSync(join(tmp, 'files', 'dir', 'sub'), { recursive: true });
  writeFileSync(join(tmp, 'files', 'a.txt'), 'Hello, Nix!\n');
  writeFileSync(join(tmp, 'files', 'b.txt'), 'é\u0000binary\xff');
  writeFileSync(join(tmp, 'files', 'build.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  writeFileSync(join(tmp, 'files', 'dir', 'x'), 'x\n');
  writeFileSync(join(tmp, 'files', 'dir', 'sub', 'run'), '#!/bin/sh\n', { mode: 0o755 });
  symlinkSync('../x', join(tmp, 'files', 'dir', 'sub', 'link'));
  writeFileSync(join(tmp, 'cases.nix'), expression());
  result = JSON.parse(
    run('nix-instantiate', ['--eval', '--strict', '--json', '--read-write-mode', 'cases.nix']),
  );
});

after(() => {
  if (!tmp) return;
  if (process.env.TIX_ORACLE_KEEP === '1') return void console.log(`kept oracle dir ${tmp}`);
  spawnSync('chmod', ['-R', 'u+w', tmp]);
  rmSync(tmp, { recursive: true, force: true });
});

test('derivations: .drv bytes, .drv paths and output paths match Nix 2.8', { skip }, () => {
  const entries = Object.entries(result.drvs);
  assert.ok(entries.length >= 50, `${entries.length} derivation cases`);
  const inputHash = makeInputHasher(readDrv);
  for (const [name, { drvPath, outputs }] of entries) {
    const bytes = readFileSync(join(tmp, 'root', drvPath));
    const drv = readDrv(drvPath);
    assert.equal(printDerivation(drv), bytes.toString('utf8'), `${name}: ATerm round trip`);
    assert.equal(derivationPath(drv, SD), drvPath, `${name}: .drv path`);
    checkDerivationOutputs(drv, { inputHash, storeDir: SD, drvPath });
    assert.deepEqual(
      Object.fromEntries([...drv.outputs].map(([o, v]) => [o, v.path])),
      outputs,
      `${name}: output paths`,
    );
    const blank: Derivation = {
      ...drv,
      outputs: new Map([...drv.outputs].map(([k, o]) => [k, { ...o, path: '' }])),
      env: new Map([...drv.env].map(([k, v]) => [k, drv.outputs.has(k) ? '' : v])),
    };
    assert.equal(
      printDerivation(fillOutputPaths(blank, { inputHash, storeDir: SD })),
      bytes.toString('utf8'),
      `${name}: fill`,
    );
  }
  // the merge case really exercised two inputs with one hash
  const parent = readDrv(result.drvs.parent!.drvPath);
  assert.equal(parent.inputDrvs.size, 2);
  const [h1, h2] = [...parent.inputDrvs.keys()].map(inputHash);
  assert.deepEqual(h1, h2);
});

test('nix show-derivation JSON equals printDerivationsJson / derivationToJson', { skip }, () => {
  const paths = Object.values(result.drvs).map((d) => d.drvPath);
  const stdout = run('nix', ['show-derivation', ...paths]);
  const entries = paths.map((p) => [p, readDrv(p)] as [string, Derivation]);
  assert.equal(printDerivationsJson(entries), stdout);
  const parsed = JSON.parse(stdout) as Record<string, unknown>;
  for (const [p, d] of entries) assert.deepEqual(derivationToJson(p, d)[p], parsed[p], p);
});

test('builtins.toFile paths (text, with references) match Nix 2.8', { skip }, () => {
  const texts = Object.entries(result.texts);
  assert.equal(texts.length, 6);
  for (const [, t] of texts) {
    const base = t.path.slice(SD.length + 34);
    assert.equal(makeTextPath(base, hashBytes('sha256', t.contents), t.refs, SD), t.path, JSON.stringify(t));
  }
  assert.ok(result.texts.t3!.refs.length === 3);
});

test('nix-store --add and --add-fixed (flat/recursive × md5/sha1/sha256/sha512) match Nix 2.8', {
  skip,
}, () => {
  const files = ['files/a.txt', 'files/b.txt', 'files/build.sh'];
  const trees = [...files, 'files/dir'];
  let checked = 0;
  for (const algo of ALGOS) {
    // NAR hashes from the oracle (`nix-hash` hashes the NAR serialisation by default)
    const narHashes = run('nix-hash', ['--type', algo, ...trees])
      .trim()
      .split('\n');
    for (const recursive of [false, true]) {
      const inputs = recursive ? trees : files;
      const got = run('nix-store', ['--add-fixed', ...(recursive ? ['--recursive'] : []), algo, ...inputs])
        .trim()
        .split('\n');
      inputs.forEach((f, i) => {
        const hash = recursive
          ? parseHash(narHashes[trees.indexOf(f)]!, { algo })
          : hashBytes(algo, readFileSync(join(tmp, f)));
        const name = f.slice(f.lastIndexOf('/') + 1);
        assert.equal(
          makeFixedOutputPath(name, { method: recursive ? 'recursive' : 'flat', hash }, { storeDir: SD }),
          got[i],
          `${algo} ${recursive} ${f}`,
        );
        checked++;
      });
    }
    if (algo === 'sha256') {
      const added = run('nix-store', ['--add', ...trees])
        .trim()
        .split('\n');
      trees.forEach((f, i) => {
        const hash = parseHash(narHashes[i]!, { algo });
        assert.equal(
          makeFixedOutputPath(f.slice(6), { method: 'recursive', hash }, { storeDir: SD }),
          added[i],
        );
        checked++;
      });
    }
  }
  assert.equal(checked, 4 * (3 + 4) + 4);
});
