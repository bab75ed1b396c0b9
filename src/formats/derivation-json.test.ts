import assert from 'node:assert/strict';
import { test } from 'node:test';
import { derivationName, parseDerivation, printDerivation } from './derivation.js';
import { derivationFromJson, derivationToJson, jsonString, printDerivationsJson } from './derivation-json.js';
import { FormatError } from './errors.js';
import { readVector, readVectorText } from './test-vectors.js';

const WORKED: [string, string][] = [
  ['dep', 'p2qkh6lklg7zljx468xsl3gwif574nq4-dep.drv'],
  ['fixed-hello', 'bzskd547fp8gnicidypg2h9n905vrqci-fixed-hello.drv'],
  ['top', '7a6cd5z2ys1ps3lgj7sj2n102b0k8jj7-top.drv'],
  ['sa-demo', 'fr8ghnr1wmwp5fvf5fqgfymqnsi26j01-sa-demo.drv'],
];

test('nix show-derivation output of the worked examples, byte-exact and as values', () => {
  for (const [stem, base] of WORKED) {
    const p = `/nix/store/${base}`;
    const drv = parseDerivation(readVector(`worked/drv/${base}`), { name: derivationName(p) });
    const expected = readVectorText(`worked/json/show-derivation-${stem}.json`);
    assert.equal(printDerivationsJson([[p, drv]]), expected, stem);
    assert.deepEqual(derivationToJson(p, drv), JSON.parse(expected));
    // and back: the JSON describes the same ATerm
    const back = derivationFromJson(JSON.parse(expected));
    assert.equal(back.name, stem);
    assert.equal(printDerivation(back), printDerivation(drv));
    const inner = derivationFromJson(JSON.parse(expected)[p], { name: stem });
    assert.equal(printDerivation(inner), printDerivation(drv));
  }
});

test('several derivations are keyed in store-path order', () => {
  const entries = WORKED.map(([, base]) => {
    const p = `/nix/store/${base}`;
    return [p, parseDerivation(readVector(`worked/drv/${base}`), { name: derivationName(p) })] as [
      string,
      ReturnType<typeof parseDerivation>,
    ];
  });
  const text = printDerivationsJson(entries);
  assert.deepEqual(Object.keys(JSON.parse(text)), entries.map(([p]) => p).sort());
  assert.ok(text.startsWith('{\n  "/nix/store/7a6cd5z2'));
});

test('floating, impure and deferred outputs', () => {
  const drv = parseDerivation(
    'Derive([("a","","r:sha256",""),("b","","",""),("c","","sha1","impure")],[],[],"s","b",[],[("1","x"),("0","y")])',
    { name: 'x' },
  );
  const j = derivationToJson('/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv', drv);
  const inner = Object.values(j)[0]!;
  assert.deepEqual(inner.outputs, {
    a: { hashAlgo: 'r:sha256' },
    b: {},
    c: { hashAlgo: 'sha1', impure: true },
  });
  const text = printDerivationsJson([['/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv', drv]]);
  assert.ok(text.includes('"impure": true'));
  assert.ok(text.includes('"b": {}'));
  assert.ok(text.indexOf('"0": "y"') < text.indexOf('"1": "x"'));
  assert.equal(printDerivation(derivationFromJson(JSON.parse(text))), printDerivation(drv));
});

test('JSON strings are escaped like Nix 2.8 (json.cc)', () => {
  assert.equal(
    jsonString('a"b\\c\nd\re\tf\u0001\b\f\u007fé😀/'),
    '"a\\"b\\\\c\\nd\\re\\tf\\u0001\\u0008\\u000c\u007fé😀/"',
  );
});

test('malformed JSON derivations are FormatError BAD_DRV_JSON', () => {
  const good = JSON.parse(readVectorText('worked/json/show-derivation-dep.json'));
  const inner = Object.values(good)[0] as Record<string, unknown>;
  const bads: unknown[] = [
    null,
    [],
    {},
    { a: inner, b: inner },
    { ...inner, outputs: [] },
    { ...inner, args: [1] },
    { ...inner, env: { a: 1 } },
    { ...inner, system: 3 },
    { ...inner, inputDrvs: { '/nix/store/x.drv': 'out' } },
    { ...inner, inputDrvs: { '/nix/store/x.drv': ['out'] } },
    { ...inner, inputSrcs: ['relative'] },
    {
      ...inner,
      outputs: {
        out: { path: '/nix/store/z4asv3j07d89ywjf8fxkn7sg6mf5s9q5-dep', hashAlgo: 'sha257', hash: '00' },
      },
    },
    { ...inner, outputs: { 'o"ut': {} } },
  ];
  for (const b of bads) {
    assert.throws(
      () => derivationFromJson(b, { name: 'dep' }),
      (e: unknown) => e instanceof FormatError && e.code === 'BAD_DRV_JSON',
      JSON.stringify(b)?.slice(0, 80),
    );
  }
  assert.throws(() => derivationFromJson(inner), /name is unknown/);
});
