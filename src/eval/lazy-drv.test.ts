import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryEvalIO } from './io-memory.js';
import { explicitContext, explicitElement, isLazyOutput, LazyDrvTable } from './lazy-drv.js';
import { evalPrint } from './test-util.js';

// A graph with several outputs, fixed outputs of equal content, an explicit output context beside
// lazy ones, and a derivation made by derivationStrict itself.
const GRAPH = `
let
  mk = name: attrs: derivation ({ inherit name; system = "x86_64-linux"; builder = "/bin/sh"; } // attrs);
  a = mk "a" { };
  b = mk "b" { dep = a; };
  m = mk "m" { outputs = [ "out" "dev" ]; x = b; };
  fod1 = mk "fod" { outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; outputHashMode = "flat"; };
  fod2 = mk "fod" { outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; outputHashMode = "flat"; e = "1"; };
  u1 = mk "u" { src = fod1; };
  u2 = mk "u" { src = fod2; };
  c = mk "c" { d = m.dev; o = m; s = "\${m.dev}/include \${b}"; };
  explicit = builtins.appendContext "x" { \${builtins.unsafeDiscardStringContext b.drvPath} = { outputs = [ "out" ]; }; };
  mixed = mk "mixed" { e = explicit; b = b; a = "\${a}"; };
  strict = builtins.derivationStrict { name = "ds"; system = "x"; builder = "/bin/sh"; dep = c; };
  all = [ a b m m.dev c u1 u2 mixed ];
in {
  outs = map (d: d.outPath) all;
  drvs = map (d: d.drvPath) all;
  ctx = builtins.getContext "\${c} \${mixed} \${u2}";
  inherit (strict) drvPath out;
}`;

test('read-only evaluation gives the outputs, .drv paths and contexts of read-write evaluation', () => {
  const ro = evalPrint(GRAPH, { readOnly: true });
  const rw = evalPrint(GRAPH, { readOnly: false });
  assert.equal(ro, rw);
  // Two fixed-output derivations with one output path, and different .drv paths.
  assert.match(ro, /-u\.drv" "\/nix\/store\/[0-9a-z]{32}-u\.drv"/);
  assert.match(ro, /-c\.drv" = \{ outputs = \[ "out" \]; \}/);
});

/** MemoryEvalIO counting the .drv files whose paths are computed. */
class CountingIO extends MemoryEvalIO {
  drvs: string[] = [];
  override addTextToStore(
    name: string,
    text: Uint8Array | string,
    refs: string[],
    opts?: { readOnly?: boolean },
  ) {
    if (name.endsWith('.drv')) this.drvs.push(name);
    return super.addTextToStore(name, text, refs, opts);
  }
}

test('the .drv path of a derivation is computed only when it is read, with those of its inputs', () => {
  const chain = `let
    mk = name: attrs: derivation ({ inherit name; system = "x"; builder = "/bin/sh"; } // attrs);
    a = mk "a" { };
    b = mk "b" { dep = a; };
    c = mk "c" { dep = b; };
    other = mk "other" { };
  in`;
  const io = new CountingIO();
  const outs = evalPrint(`${chain} [ c.outPath other.outPath ]`, { io, readOnly: true });
  assert.match(outs, /-c" "\/nix\/store\/[0-9a-z]{32}-other" \]$/);
  assert.deepEqual(io.drvs, []);

  const io2 = new CountingIO();
  evalPrint(`${chain} [ other.outPath c.drvPath ]`, { io: io2, readOnly: true });
  assert.deepEqual(io2.drvs.sort(), ['a.drv', 'b.drv', 'c.drv']);

  // Read-write evaluation writes every .drv at once, as Nix does.
  const io3 = new CountingIO();
  evalPrint(`${chain} [ c.outPath other.outPath ]`, { io: io3, readOnly: false });
  assert.deepEqual(io3.drvs.sort(), ['a.drv', 'b.drv', 'c.drv', 'other.drv']);
});

test('lazy context elements become !out!drv where Nix shows or reads them', () => {
  const d = 'derivation { name = "d"; system = "x"; builder = "/bin/sh"; }';
  const drvPath = JSON.parse(evalPrint(`(${d}).drvPath`));
  assert.equal(
    evalPrint(`builtins.attrNames (builtins.getContext (${d}).outPath)`),
    `[ ${JSON.stringify(drvPath)} ]`,
  );
  assert.throws(() => evalPrint(`let d = ${d}; in { \${d.outPath} = 1; }`), {
    message: new RegExp(`such as '!out!${drvPath}'`),
  });
  assert.throws(() => evalPrint(`let d = ${d}; in builtins.toFile "f" "\${d}"`), {
    message: new RegExp(`contains \\(!out!${drvPath}\\)`),
  });
});

test('LazyDrvTable: keys, resolution and unknown elements', () => {
  const table = new LazyDrvTable();
  let computed = 0;
  const key = table.add({
    moduloBase16: 'ab',
    drvPathNow: () => {
      computed++;
      return '/nix/store/00000000000000000000000000000000-x.drv';
    },
  });
  const element = `${key}!dev`;
  assert.ok(isLazyOutput(element));
  assert.ok(!isLazyOutput('!dev!/nix/store/00000000000000000000000000000000-x.drv'));
  assert.equal(computed, 0);
  assert.equal(explicitElement(element), '!dev!/nix/store/00000000000000000000000000000000-x.drv');
  const plain = new Set(['/nix/store/00000000000000000000000000000000-y']);
  assert.equal(explicitContext(plain), plain);
  assert.deepEqual([...explicitContext(new Set([...plain, element]))], [...plain, explicitElement(element)]);
  assert.throws(() => explicitElement(`${key.slice(0, key.indexOf(':'))}:7!out`), /unknown lazy derivation/);
});
