import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareUtf8 } from './byte-order.js';
import { type Derivation, parseDerivation, printDerivation } from './derivation.js';
import {
  derivationKind,
  fillOutputPaths,
  fixedOutputContentAddress,
  hashDerivationModuloBase16,
  makeInputHasher,
} from './derivation-hash.js';
import { instantiateDerivation, type NewDerivation } from './derivation-instantiate.js';
import { hashBase16, printHash } from './hash.js';
import { readVector, roundTripDrvVectors } from './test-vectors.js';

const SD = '/nix/store';

/** Input hashes for tests: the sha256 of the path, except that paths containing "same" share one. */
function fakeInputHash(drvPath: string): string {
  return hashBase16('sha256', drvPath.includes('same') ? 'same' : drvPath);
}

/** The derivation's fields as the builtin passes them, output paths left out. */
function fieldsOf(drv: Derivation): NewDerivation {
  const sorted = <V>(m: Map<string, V>) => [...m.keys()].sort(compareUtf8);
  const outputs = sorted(drv.outputs);
  const envKeys = sorted(drv.env);
  const inputDrvs = sorted(drv.inputDrvs);
  let fixed: NewDerivation['fixed'];
  if (derivationKind(drv) === 'fixed') {
    const ca = fixedOutputContentAddress(drv.outputs.get('out')!);
    assert.ok(ca.method === 'flat' || ca.method === 'recursive');
    fixed = { method: ca.method, hash: ca.hash };
  }
  return {
    name: drv.name,
    outputs,
    fixed,
    inputDrvs,
    inputDrvOutputs: inputDrvs.map((p) => [...drv.inputDrvs.get(p)!].sort(compareUtf8)),
    inputSrcs: [...drv.inputSrcs].sort(compareUtf8),
    system: drv.system,
    builder: drv.builder,
    args: drv.args,
    envKeys,
    envVals: envKeys.map((k) => (drv.outputs.has(k) ? 'ignored' : drv.env.get(k)!)),
  };
}

/** What fillOutputPaths, printDerivation and hashDerivationModulo give for the blanked derivation. */
function expected(drv: Derivation): { outputPaths: string[]; text: string; modulo: string } {
  const blank: Derivation = {
    ...drv,
    outputs: new Map([...drv.outputs].map(([k, o]) => [k, { ...o, path: '' }])),
    env: new Map([...drv.env].map(([k, v]) => [k, drv.outputs.has(k) ? '' : v])),
  };
  const filled = fillOutputPaths(blank, { inputHashBase16: fakeInputHash, storeDir: SD });
  return {
    outputPaths: [...filled.outputs.keys()].sort(compareUtf8).map((k) => filled.outputs.get(k)!.path),
    text: printDerivation(filled),
    modulo: hashDerivationModuloBase16(filled, {
      maskOutputs: false,
      inputHashBase16: fakeInputHash,
      storeDir: SD,
    }),
  };
}

function check(drv: Derivation, what: string): void {
  const want = expected(drv);
  const got = instantiateDerivation(fieldsOf(drv), { storeDir: SD, inputHashBase16: fakeInputHash });
  assert.deepEqual(got.outputPaths, want.outputPaths, what);
  assert.equal(got.text, want.text, what);
  assert.equal(got.moduloBase16, want.modulo, what);
}

test('every input-addressed and fixed vector: the paths, text and modulo hash of derivation-hash', () => {
  let n = 0;
  const files = roundTripDrvVectors().map((v) => v.file);
  files.push('derivation/hello.drv', 'derivation/firefox.drv');
  for (const file of files) {
    const name = file
      .slice(file.lastIndexOf('/') + 1)
      .replace(/^[0-9a-z]{32}-/, '')
      .replace(/\.drv$/, '');
    const drv = parseDerivation(readVector(file), { name });
    let kind: string;
    try {
      kind = derivationKind(drv);
    } catch {
      continue; // no outputs, or mixed kinds: nothing the builtin makes
    }
    if (kind === 'fixed') {
      const algo = drv.outputs.get('out')!.hashAlgo;
      if (algo.includes(':') && !algo.startsWith('r:')) continue;
    } else if (kind !== 'inputAddressed' && kind !== 'deferred') continue;
    check(drv, file);
    n++;
  }
  assert.ok(n >= 20, `only ${n} vectors`);
});

test('worked example: top.drv, its output path and its hash as an input, from its inputs', () => {
  const dir = 'worked/drv';
  const files = [
    '7a6cd5z2ys1ps3lgj7sj2n102b0k8jj7-top.drv',
    'p2qkh6lklg7zljx468xsl3gwif574nq4-dep.drv',
    'bzskd547fp8gnicidypg2h9n905vrqci-fixed-hello.drv',
  ];
  const drvs = new Map<string, Derivation>();
  for (const f of files) {
    drvs.set(`${SD}/${f}`, parseDerivation(readVector(`${dir}/${f}`), { name: f.slice(33, -4) }));
  }
  const inputHash = makeInputHasher((p) => drvs.get(p)!);
  const top = drvs.get(`${SD}/${files[0]}`)!;
  const got = instantiateDerivation(fieldsOf(top), {
    storeDir: SD,
    inputHashBase16: (p) => printHash(inputHash(p), 'base16'),
  });
  assert.equal(got.text, readVector(`${dir}/${files[0]}`).toString());
  assert.deepEqual(got.outputPaths, [
    '/nix/store/420501dw8qf5s0sxmmkg6cs7awrbqsaw-top-dev',
    '/nix/store/b519l05f2ax5jbbnllvl77z1br1pgkjm-top',
  ]);
  assert.equal(got.moduloBase16, 'bbae1eb596f1cd790adeb95a1d79e668bff772d08d0985107e972ba0d08632a2');
  // The fixed-output input: its path from the content address, its hash the "fixed:out:" text's.
  const fod = drvs.get(`${SD}/${files[2]}`)!;
  const fixed = instantiateDerivation(fieldsOf(fod), { storeDir: SD, inputHashBase16: () => assert.fail() });
  assert.equal(fixed.text, readVector(`${dir}/${files[2]}`).toString());
  assert.equal(fixed.moduloBase16, '1fe4716cb362ff77dcb6de437c3afcfb3d9d69e523431d3749b303047550eae6');
});

function drv(over: Partial<Derivation>): Derivation {
  return {
    name: 'x',
    outputs: new Map([['out', { path: '', hashAlgo: '', hash: '' }]]),
    inputSrcs: [],
    system: 'x86_64-linux',
    builder: '/bin/sh',
    args: [],
    env: new Map([['out', '']]),
    inputDrvs: new Map(),
    ...over,
  };
}

test('escapes, several outputs, outputs without env entries, non-ASCII text', () => {
  const d = drv({
    name: 'multi',
    outputs: new Map([
      ['out', { path: '', hashAlgo: '', hash: '' }],
      ['dev', { path: '', hashAlgo: '', hash: '' }],
      ['lib', { path: '', hashAlgo: '', hash: '' }],
    ]),
    builder: '/bin/"sh"\\',
    args: ['-c', 'echo "a\tb\nc\r" \\ d', 'λ ünïcode 🎉'],
    env: new Map([
      ['dev', ''],
      ['out', ''],
      ['a"b', 'x\\y'],
      ['name', 'multi'],
      ['z', 'é€𝄞'],
    ]),
    inputSrcs: [
      '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-src',
      '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b',
    ],
  });
  check(d, 'multi');
  // The input sources sorted and made unique when they are not yet.
  const f = fieldsOf(d);
  f.inputSrcs = [f.inputSrcs[1]!, f.inputSrcs[0]!, f.inputSrcs[1]!];
  assert.equal(
    instantiateDerivation(f, { storeDir: SD, inputHashBase16: fakeInputHash }).text,
    expected(d).text,
  );
});

/** Three inputs, two of them with one hash (see fakeInputHash). */
const mergingInputs = () =>
  new Map([
    ['/nix/store/cccccccccccccccccccccccccccccccc-same-a.drv', ['out', 'dev']],
    ['/nix/store/dddddddddddddddddddddddddddddddd-same-b.drv', ['bin', 'out']],
    ['/nix/store/ffffffffffffffffffffffffffffffff-other.drv', ['out']],
  ]);

test('input derivations with equal hashes merge their outputs in the modulo text', () => {
  const d = drv({
    inputDrvs: mergingInputs(),
  });
  check(d, 'merged');
  // The merged entry: one input hash with the union of the output names.
  const f = fieldsOf(d);
  const got = instantiateDerivation(f, { storeDir: SD, inputHashBase16: fakeInputHash });
  const filled = parseDerivation(got.text, { name: 'x' });
  const merged = new Map([
    [fakeInputHash('same'), ['bin', 'dev', 'out']],
    [fakeInputHash('/nix/store/ffffffffffffffffffffffffffffffff-other.drv'), ['out']],
  ]);
  assert.equal(got.moduloBase16, hashBase16('sha256', printDerivation(filled, { inputDrvs: merged })));
});

test('fixed outputs: flat and recursive', () => {
  for (const [hashAlgo, hash] of [
    ['sha256', 'a'.repeat(64)],
    ['r:sha256', 'b'.repeat(64)],
    ['r:sha1', 'c'.repeat(40)],
    ['md5', 'd'.repeat(32)],
  ] as const) {
    const d = drv({
      name: 'fixed',
      outputs: new Map([['out', { path: '', hashAlgo, hash }]]),
      env: new Map([
        ['out', ''],
        ['outputHash', hash],
      ]),
    });
    check(d, hashAlgo);
  }
});

test('no input derivations: the modulo text is the text', () => {
  const got = instantiateDerivation(fieldsOf(drv({})), {
    storeDir: SD,
    inputHashBase16: () => assert.fail(),
  });
  assert.equal(got.moduloBase16, hashBase16('sha256', got.text));
  assert.match(got.outputPaths[0]!, /^\/nix\/store\/[0-9a-z]{32}-x$/);
});

test('an invalid output name is a store path name error', () => {
  const d = drv({ outputs: new Map([['a b', { path: '', hashAlgo: '', hash: '' }]]) });
  assert.throws(
    () => instantiateDerivation(fieldsOf(d), { storeDir: SD, inputHashBase16: fakeInputHash }),
    /store path '[0-9a-z]{32}-x-a b' contains illegal character ' '$/,
  );
});

test('noText: the same output paths and modulo hash from inputs given by their hashes, in any order', () => {
  const d = drv({
    inputDrvs: mergingInputs(),
  });
  const f = fieldsOf(d);
  const full = instantiateDerivation(f, { storeDir: SD, inputHashBase16: fakeInputHash });
  // One entry per (input, output), hashes for paths, reversed: as a lazy derivation passes them.
  const pairs = f.inputDrvs.flatMap((p, i) =>
    f.inputDrvOutputs[i]!.map((o) => [fakeInputHash(p), o] as const),
  );
  pairs.reverse();
  const byHash = instantiateDerivation(
    { ...f, inputDrvs: pairs.map(([h]) => h), inputDrvOutputs: pairs.map(([, o]) => [o]) },
    { storeDir: SD, inputHashBase16: (h) => h, noText: true },
  );
  assert.deepEqual(byHash, { outputPaths: full.outputPaths, text: '', moduloBase16: full.moduloBase16 });
});
