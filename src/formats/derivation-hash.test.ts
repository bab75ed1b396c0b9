import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { type Derivation, derivationName, parseDerivation, printDerivation } from './derivation.js';
import {
  checkDerivationOutputs,
  derivationKind,
  derivationPath,
  fillOutputPaths,
  hashDerivationModulo,
  hashDerivationModuloBase16,
  makeInputHasher,
} from './derivation-hash.js';
import { FormatError } from './errors.js';
import { type Hash, hashBytes, printHash } from './hash.js';
import { readVector, vectorPath } from './test-vectors.js';

const SD = '/nix/store';
const hex = (h: Hash) => printHash(h, 'base16');
const sha = (s: string | Uint8Array) => hex(hashBytes('sha256', s));

/** The .drv files in a vector folder, by full store path (files are named by base name). */
function drvSet(dirs: string[]): Map<string, Derivation> {
  const m = new Map<string, Derivation>();
  for (const dir of dirs) {
    for (const f of readdirSync(vectorPath(dir)).filter((f) => /^[0-9a-z]{32}-.*\.drv$/.test(f))) {
      const p = `${SD}/${f}`;
      m.set(p, parseDerivation(readVector(`${dir}/${f}`), { name: derivationName(p), path: p }));
    }
  }
  return m;
}

function hasherFor(drvs: Map<string, Derivation>) {
  return makeInputHasher((p) => {
    const d = drvs.get(p);
    if (!d) throw new Error(`test: missing input ${p}`);
    return d;
  });
}

test('worked example E: every intermediate hash and path', () => {
  const drvs = drvSet(['worked/drv']);
  const inputHash = hasherFor(drvs);
  const dep = drvs.get('/nix/store/p2qkh6lklg7zljx468xsl3gwif574nq4-dep.drv')!;
  const fod = drvs.get('/nix/store/bzskd547fp8gnicidypg2h9n905vrqci-fixed-hello.drv')!;
  const top = drvs.get('/nix/store/7a6cd5z2ys1ps3lgj7sj2n102b0k8jj7-top.drv')!;
  const sa = drvs.get('/nix/store/fr8ghnr1wmwp5fvf5fqgfymqnsi26j01-sa-demo.drv')!;

  // E1 dep
  assert.equal(
    printDerivation(dep, { maskOutputs: true }),
    readVector('worked/drv/dep.modulo-masked.aterm').toString(),
  );
  assert.equal(
    hex(hashDerivationModulo(dep, { maskOutputs: true, inputHash })),
    '00b851513f5c58e264a751c12c2cda4ea5422f951c14c49330bab04fdd208106',
  );
  assert.equal(
    hex(inputHash('/nix/store/p2qkh6lklg7zljx468xsl3gwif574nq4-dep.drv')),
    '3d3a476d95e958c9d72c8e075141eb390c0c358a9a563142c54cb5b27ac8c041',
  );
  // E2 fixed-hello: the FOD rule
  assert.equal(derivationKind(fod), 'fixed');
  assert.equal(
    hex(hashDerivationModulo(fod, { maskOutputs: true, inputHash })),
    '1fe4716cb362ff77dcb6de437c3afcfb3d9d69e523431d3749b303047550eae6',
  );
  assert.equal(
    sha(
      'fixed:out:sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03:/nix/store/a17ah642xc653fw8pfw4kxqcgzjm5qi0-fixed-hello',
    ),
    '1fe4716cb362ff77dcb6de437c3afcfb3d9d69e523431d3749b303047550eae6',
  );
  assert.equal(sha(printDerivation(fod)), 'f55bd18556942b228f03236e26ce5af7f7ae0032238ab6245d7b75ef7d405d5a');
  // E3 top
  const inputs = new Map([
    ['1fe4716cb362ff77dcb6de437c3afcfb3d9d69e523431d3749b303047550eae6', ['out']],
    ['3d3a476d95e958c9d72c8e075141eb390c0c358a9a563142c54cb5b27ac8c041', ['out']],
  ]);
  const masked = printDerivation(top, { maskOutputs: true, inputDrvs: inputs });
  assert.equal(masked, readVector('worked/drv/top.modulo-masked.aterm').toString());
  assert.equal(Buffer.byteLength(masked), 879);
  assert.equal(sha(masked), '738b16b44c8146a67fecd1a90e51f622dcd49e6d6254fb76a86e2280c4f7859c');
  assert.equal(
    hex(hashDerivationModulo(top, { maskOutputs: true, inputHash })),
    '738b16b44c8146a67fecd1a90e51f622dcd49e6d6254fb76a86e2280c4f7859c',
  );
  assert.equal(
    printDerivation(top, { inputDrvs: inputs }),
    readVector('worked/drv/top.modulo-unmasked.aterm').toString(),
  );
  assert.equal(
    hex(hashDerivationModulo(top, { maskOutputs: false, inputHash })),
    'bbae1eb596f1cd790adeb95a1d79e668bff772d08d0985107e972ba0d08632a2',
  );
  // The hex form, with the inputs' hashes given as hex too.
  const inputHashBase16 = (p: string) => hex(inputHash(p));
  assert.equal(
    hashDerivationModuloBase16(top, { maskOutputs: false, inputHashBase16 }),
    'bbae1eb596f1cd790adeb95a1d79e668bff772d08d0985107e972ba0d08632a2',
  );
  assert.equal(
    hashDerivationModuloBase16(top, { maskOutputs: true, inputHash }),
    '738b16b44c8146a67fecd1a90e51f622dcd49e6d6254fb76a86e2280c4f7859c',
  );
  assert.equal(sha(printDerivation(top)), 'f5a20f1db748c2770f2120dfce9598f9ac9352eb34589dda82da017560f08e95');
  // sa-demo: __json is not masked
  assert.equal(
    printDerivation(sa, { maskOutputs: true }),
    readVector('worked/drv/sa-demo.modulo-masked.aterm').toString(),
  );
  assert.equal(
    hex(hashDerivationModulo(sa, { maskOutputs: true, inputHash })),
    'a94080703af55569e23e874c15595b61ed77cd5f05de6415597de42e819dcf07',
  );
  assert.equal(sha(printDerivation(sa)), '2dee092bc66a3451cdbd06cce9d23275330cc2b326d3daafb3a2adf1a96b33b7');
});

test('.drv paths and output paths of every named vector reproduce', () => {
  const drvs = drvSet(['worked/drv', 'captures-nix-2.8/derivations']);
  assert.equal(drvs.size, 7);
  const inputHash = hasherFor(drvs);
  for (const [p, drv] of drvs) {
    assert.equal(derivationPath(drv, SD), p);
    checkDerivationOutputs(drv, { inputHash, storeDir: SD, drvPath: p });
    // fillOutputPaths from a blanked copy gives back the exact same ATerm.
    const blank: Derivation = {
      ...drv,
      outputs: new Map([...drv.outputs].map(([k, o]) => [k, { ...o, path: '' }])),
      env: new Map([...drv.env].map(([k, v]) => [k, drv.outputs.has(k) ? '' : v])),
    };
    assert.equal(
      printDerivation(fillOutputPaths(blank, { inputHash, storeDir: SD })),
      printDerivation(drv),
      p,
    );
  }
});

test('ia/*-defaults vectors reproduce their output paths', () => {
  for (const f of ['advanced-attributes-defaults', 'advanced-attributes-structured-attrs-defaults']) {
    const drv = parseDerivation(readVector(`derivation/ia/${f}.drv`), { name: f });
    assert.equal(drv.inputDrvs.size, 0);
    checkDerivationOutputs(drv, { inputHash: () => assert.fail('no inputs'), storeDir: SD });
  }
  // ca/ vectors are floating: nothing to compute, kind is reported.
  const ca = parseDerivation(readVector('derivation/ca/advanced-attributes-defaults.drv'), {
    name: 'advanced-attributes-defaults',
  });
  assert.equal(derivationKind(ca), 'floating');
  assert.equal(
    printDerivation(fillOutputPaths(ca, { inputHash: () => assert.fail(), storeDir: SD })),
    printDerivation(ca),
  );
});

test('hash-modulo vectors, including the intermediate-* trap and merged input outputs', () => {
  const dir = 'derivation/hash-modulo';
  const load = (f: string, name: string) => parseDerivation(readVector(`${dir}/${f}.drv`), { name });
  const sourceFirst = load('source-first', 'source');
  const sourceSecond = load('source-second', 'source');
  const interFirst = load('intermediate-first', 'intermediate');
  const interSecond = load('intermediate-second', 'intermediate');
  const byPath = new Map<string, Derivation>();
  for (const d of [sourceFirst, sourceSecond, interFirst, interSecond]) byPath.set(derivationPath(d, SD), d);
  assert.deepEqual([...byPath.keys()].sort(), [
    '/nix/store/f8g8x4m83da3b2f79iv84q2r3qlc58lr-intermediate.drv',
    '/nix/store/jwmbpldsdgfjhkxk317jn55jilyfl63f-source.drv',
    '/nix/store/kp6i4n4bb3hlniwqjakhlf046qpdc0gl-intermediate.drv',
    '/nix/store/q4mzjdlh5px6977h7v5fdsk1p33yg583-source.drv',
  ]);
  const inputHash = hasherFor(byPath);
  const h = (d: Derivation, maskOutputs: boolean) => hex(hashDerivationModulo(d, { maskOutputs, inputHash }));
  assert.equal(h(sourceFirst, false), '42cfa58bf5a281911b6c9471c67cf64f70a820b033415190db3da91710c5ff2c');
  assert.equal(h(sourceSecond, false), '42cfa58bf5a281911b6c9471c67cf64f70a820b033415190db3da91710c5ff2c');
  assert.equal(h(interFirst, false), '6df335a6cafec6b08aa38163a4a3d1b8f04bc8dc10de4ad35d677f911f2d3b5a');
  assert.equal(h(interSecond, false), '6df335a6cafec6b08aa38163a4a3d1b8f04bc8dc10de4ad35d677f911f2d3b5a');
  checkDerivationOutputs(sourceFirst, { inputHash, storeDir: SD });

  // masked ATerm of intermediate-* equals the supplied -modulo.drv (env entries present → blanked)
  for (const [d, f] of [
    [interFirst, 'intermediate-first-modulo'],
    [interSecond, 'intermediate-second-modulo'],
  ] as const) {
    const inputs = new Map([['42cfa58bf5a281911b6c9471c67cf64f70a820b033415190db3da91710c5ff2c', ['out']]]);
    assert.equal(
      printDerivation(d, { maskOutputs: true, inputDrvs: inputs }),
      readVector(`${dir}/${f}.drv`).toString(),
    );
    assert.equal(h(d, true), '9595af5bf277455d103fa72c7bdc30bc9efa894e4381a97df38a13cb9c77edfb');
    // …so the stated paths (computed upstream with an empty env) do not check out,
    assert.throws(() => checkDerivationOutputs(d, { inputHash, storeDir: SD }), FormatError);
    const filled = fillOutputPaths(d, { inputHash, storeDir: SD });
    assert.equal(filled.outputs.get('out')!.path, '/nix/store/9y9d7gv85dkhgy5k13cvss5bmbvc4hjm-intermediate');
    assert.equal(
      filled.outputs.get('dev')!.path,
      '/nix/store/d643b76vd5qrddnjsmfz3gk0k47y70wz-intermediate-dev',
    );
    // …while without env entries they reproduce, and filling does not add env entries.
    const noEnv = { ...d, env: new Map<string, string>() };
    assert.equal(h(noEnv, true), '3b0a40b4c16586ccc2651e263e54f034e74d782e81b33f900319ae732c20343c');
    checkDerivationOutputs(noEnv, { inputHash, storeDir: SD, requireOutputEnv: false });
    assert.throws(
      () => checkDerivationOutputs(noEnv, { inputHash, storeDir: SD }),
      /incorrect environment variable 'dev'/,
    );
    const refilled = fillOutputPaths(noEnv, { inputHash, storeDir: SD });
    assert.equal(refilled.env.size, 0);
    assert.equal(
      refilled.outputs.get('out')!.path,
      '/nix/store/jlzxv2xpqj0adi22cy93573vyf9xr6fw-intermediate',
    );
    assert.equal(
      refilled.outputs.get('dev')!.path,
      '/nix/store/xgskw9kbh807ah56r4f4kxdh0fa1i0ip-intermediate-dev',
    );
  }

  // parents: two inputs with the same hash merge their output names.
  for (const f of ['parent-joined', 'parent-split']) {
    const d = load(f, 'parent');
    const expected = readVector(`${dir}/${f}-modulo.drv`).toString();
    assert.equal(sha(expected), h(d, true), f);
    assert.equal(
      printDerivation(d, {
        maskOutputs: true,
        inputDrvs: new Map([
          ['6df335a6cafec6b08aa38163a4a3d1b8f04bc8dc10de4ad35d677f911f2d3b5a', ['dev', 'out']],
        ]),
      }),
      expected,
    );
  }
});

test('bad-ca-fixed-path.drv parses but fails checkDerivationOutputs', () => {
  const drv = parseDerivation(readVector('derivation/bad-ca-fixed-path.drv'), { name: 'fixed' });
  assert.equal(derivationKind(drv), 'fixed');
  assert.throws(
    () => checkDerivationOutputs(drv, { inputHash: () => assert.fail(), storeDir: SD }),
    (e: unknown) =>
      e instanceof FormatError &&
      e.code === 'BAD_DRV' &&
      /incorrect output '\/nix\/store\/c015dhfh5l0lp6wxyvdn7bmwhbbr6hr9-fixed': should be '\/nix\/store\/[0-9a-z]{32}-fixed'/.test(
        e.message,
      ),
  );
  const fixed = fillOutputPaths(drv, { inputHash: () => assert.fail(), storeDir: SD });
  checkDerivationOutputs(fixed, { inputHash: () => assert.fail(), storeDir: SD });
});

test('derivation kinds: mixing and malformed fixed outputs are rejected', () => {
  const mk = (outs: string) => parseDerivation(`Derive([${outs}],[],[],"s","b",[],[])`, { name: 'x' });
  const p = '/nix/store/z4asv3j07d89ywjf8fxkn7sg6mf5s9q5-x';
  const h = '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03';
  assert.equal(derivationKind(mk(`("out","${p}","","")`)), 'inputAddressed');
  assert.equal(derivationKind(mk('("out","","","")')), 'deferred');
  assert.equal(derivationKind(mk('("out","","r:sha256","impure")')), 'impure');
  for (const bad of [
    '',
    `("out","${p}","",""),("dev","","r:sha256","")`,
    `("dev","${p}","sha256","${h}")`,
    `("a","${p}","sha256","${h}"),("out","${p}","sha256","${h}")`,
  ]) {
    assert.throws(
      () => derivationKind(mk(bad)),
      (e: unknown) => e instanceof FormatError && e.code === 'BAD_DRV',
      bad,
    );
  }
});
