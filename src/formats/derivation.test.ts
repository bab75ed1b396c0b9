import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Derivation, derivationName, parseDerivation, printDerivation } from './derivation.js';
import { FormatError } from './errors.js';
import { readVector, roundTripDrvVectors } from './test-vectors.js';

const badDrv = (e: unknown) => e instanceof FormatError && e.code === 'BAD_DRV';

test('every round-trippable .drv vector parses and prints back byte-exactly', () => {
  const files = roundTripDrvVectors();
  assert.ok(files.length >= 25, `only ${files.length} files`);
  for (const { file, name } of files) {
    const bytes = readVector(file);
    const drv = parseDerivation(bytes, { name, path: file });
    assert.equal(printDerivation(drv), bytes.toString('utf8'), file);
    assert.equal(parseDerivation(bytes.toString('utf8'), { name }).env.size, drv.env.size);
  }
});

test('hello.drv and firefox.drv parse (unsorted inputDrvs: printing sorts them)', () => {
  for (const f of ['derivation/hello.drv', 'derivation/firefox.drv']) {
    const text = readVector(f).toString('utf8');
    const drv = parseDerivation(text, { name: 'x' });
    assert.ok(drv.inputDrvs.size >= 4);
    const printed = printDerivation(drv);
    assert.notEqual(printed, text);
    assert.equal(printed.length, text.length);
    assert.equal(printDerivation(parseDerivation(printed, { name: 'x' })), printed);
  }
});

test('bad vectors fail with FormatError BAD_DRV', () => {
  for (const f of [
    'derivation/bad-version.drv',
    'derivation/bad-old-version-dyn-deps.drv',
    'derivation/dyn-dep-derivation.drv',
    'derivation/fuzz-seeds/bad-version.drv',
    'derivation/fuzz-seeds/dyn-dep-derivation.drv',
    'derivation/fuzz-seeds/unterminated-string.drv',
  ]) {
    assert.throws(() => parseDerivation(readVector(f), { name: 'x', path: f }), badDrv, f);
  }
  assert.throws(
    () =>
      parseDerivation(readVector('derivation/bad-old-version-dyn-deps.drv'), { name: 'x', path: '/p.drv' }),
    /^FormatError: cannot parse derivation '\/p\.drv': expected '\[' but found '\(' at byte 67 \(line 1, column 68\)$/,
  );
});

test('parsed fields of the worked top.drv', () => {
  const drv = parseDerivation(readVector('worked/drv/7a6cd5z2ys1ps3lgj7sj2n102b0k8jj7-top.drv'), {
    name: 'top',
  });
  assert.deepEqual([...drv.outputs.keys()], ['dev', 'out']);
  assert.deepEqual(drv.outputs.get('dev'), {
    path: '/nix/store/420501dw8qf5s0sxmmkg6cs7awrbqsaw-top-dev',
    hashAlgo: '',
    hash: '',
  });
  assert.deepEqual(drv.inputDrvs.get('/nix/store/p2qkh6lklg7zljx468xsl3gwif574nq4-dep.drv'), ['out']);
  assert.deepEqual(drv.inputSrcs, ['/nix/store/hyqv6qj126byaw1aasq4rvxa1lr502fp-greeting.txt']);
  assert.equal(drv.system, 'x86_64-linux');
  assert.equal(drv.builder, '/bin/sh');
  assert.equal(drv.env.get('weird'), 'quote" backslash\\ tab\t cr\r nl\n dollar$');
  assert.equal(drv.args.length, 2);
});

test('escapes: every escaped character round-trips, unknown escapes map to the character', () => {
  const drv: Derivation = {
    name: 'esc',
    outputs: new Map([['out', { path: '', hashAlgo: '', hash: '' }]]),
    inputDrvs: new Map(),
    inputSrcs: [],
    system: 'x86_64-linux',
    builder: 'a"b\\c\nd\re\tf',
    args: ['', '\\\\', '"', 'é ü 😀 \u0001 \u007f'],
    env: new Map([
      ['k"\n', 'v\\'],
      ['b', '\\n'],
    ]),
  };
  const text = printDerivation(drv);
  assert.ok(text.includes('"a\\"b\\\\c\\nd\\re\\tf"'));
  assert.ok(text.indexOf('("b"') < text.indexOf('("k'), 'env sorted');
  assert.deepEqual(parseDerivation(text, { name: 'esc' }), drv);
  const odd = parseDerivation('Derive([],[],[],"s","\\a\\"\\\\",[],[])', { name: 'x' });
  assert.equal(odd.builder, 'a"\\');
});

test('printing sorts byte-wise (UTF-8), not by UTF-16 code units', () => {
  const drv = parseDerivation('Derive([],[],[],"s","b",[],[])', { name: 'x' });
  drv.env.set('\u{1F600}', '1');
  drv.env.set('\uFF21', '2');
  drv.env.set('a', '3');
  // UTF-8: 'a' (61) < U+FF21 (ef bc a1) < U+1F600 (f0 9f 98 80); UTF-16 would put the emoji first.
  assert.equal(
    printDerivation(drv),
    'Derive([],[],[],"s","b",[],[("a","3"),("\uFF21","2"),("\u{1F600}","1")])',
  );
});

test('masking and input replacement', () => {
  const drv = parseDerivation(readVector('worked/drv/p2qkh6lklg7zljx468xsl3gwif574nq4-dep.drv'), {
    name: 'dep',
  });
  assert.equal(
    printDerivation(drv, { maskOutputs: true }),
    readVector('worked/drv/dep.modulo-masked.aterm').toString(),
  );
});

function errorOf(text: string): string {
  try {
    parseDerivation(text, { name: 'x', path: '/nix/store/aaaa-x.drv' });
  } catch (e) {
    assert.ok(badDrv(e), String(e));
    return (e as Error).message;
  }
  assert.fail(`parsed: ${text}`);
}

test('malformed derivations: FormatError with the place and what was expected', () => {
  const ok = 'Derive([("out","/nix/store/z4asv3j07d89ywjf8fxkn7sg6mf5s9q5-dep","","")],[],[],"s","b",[],[])';
  parseDerivation(ok, { name: 'x' });
  const cases: [string, RegExp][] = [
    ['', /expected 'D' \(of 'Derive\('\) but found end of input at byte 0 \(line 1, column 1\)/],
    ['Derive(', /expected '\[' but found end of input at byte 7/],
    [`${ok} `, /expected end of input but found ' ' at byte 93/],
    [ok.replace('],[]', '];[]'), /expected ',' but found ';' at byte 72/],
    [ok.replace('"s"', 's'), /expected '"' but found 's' at byte 79/],
    [ok.replace('"b",[]', '"b",["x" "y"]'), /expected ',' or ']' but found ' ' at byte 91/],
    [
      ok.replace('/nix/store/z4asv3j07d89ywjf8fxkn7sg6mf5s9q5-dep', '/tmp/x'),
      /output 'out' has a bad path.*at byte 8/,
    ],
    [ok.replace('"",""', '"sha256",""'), /is floating or impure but has the path/],
    [ok.replace('"",""', '"md4","00"'), /unknown hash algorithm 'md4'/],
    [ok.replace('"",""', '"sha256","00"'), /has a bad hash/],
    [ok.replace('"",""', '"","00"'), /has the hash '00' but no hash algorithm/],
    [
      ok.replace('[],[],"s"', '[("/nix/store/x.drv",["out"])],[],"s"'),
      /invalid store path 'x.drv'.*at byte 75/,
    ],
    [ok.replace('[],[])', '[],[("a","1"),("a","2")])'), /duplicate environment variable 'a' at byte 101/],
    ['Derive([],[],[],"s","b",[],[("a\\', /unterminated string starting at byte 29/],
    ['Derive([],[],[],"s\n","b\n,[],[])', /unterminated string starting at byte 21 \(line 2, column 3\)/],
    ['DrvWithVersion("xp-dyn-drv",[],[],[],"s","b",[],[])', /DrvWithVersion.*not supported/],
  ];
  for (const [text, re] of cases) {
    const msg = errorOf(text);
    assert.match(msg, /^cannot parse derivation '\/nix\/store\/aaaa-x\.drv': /);
    assert.match(msg, re, `${JSON.stringify(text)} → ${msg}`);
  }
  // byte offsets count UTF-8 bytes
  assert.match(
    errorOf('Derive([],[],[],"é",x'),
    /expected '"' but found 'x' at byte 21 \(line 1, column 21\)/,
  );
  // a UTF-16 surrogate encoded in UTF-8 is not valid UTF-8
  const bytes = Buffer.concat([
    Buffer.from('Derive([],[],[],"é'),
    Buffer.of(0xed, 0xa0, 0x80),
    Buffer.from('","b",[],[])'),
  ]);
  assert.throws(
    () => parseDerivation(bytes, { name: 'x' }),
    /^FormatError: cannot parse derivation 'x': invalid UTF-8 at byte 19$/,
  );
});

test('duplicate input sources collapse as in Nix (a set)', () => {
  const p = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a';
  const drv = parseDerivation(`Derive([],[],["${p}","${p}"],"s","b",[],[])`, { name: 'x' });
  assert.deepEqual(drv.inputSrcs, [p]);
});

test('derivationName', () => {
  assert.equal(derivationName('/nix/store/7a6cd5z2ys1ps3lgj7sj2n102b0k8jj7-top.drv'), 'top');
  assert.throws(() => derivationName('/nix/store/7a6cd5z2ys1ps3lgj7sj2n102b0k8jj7-top'), FormatError);
});

test('parse and print are linear: large env values with and without escapes', () => {
  const big = 'x'.repeat(2_000_000);
  const escapes = 'a\nb"c\\'.repeat(300_000);
  const many = Array.from(
    { length: 20_000 },
    (_, i) => [`k${String(i).padStart(6, '0')}`, `v${i}\n`] as const,
  );
  const drv = parseDerivation('Derive([],[],[],"s","b",[],[])', { name: 'x' });
  drv.env = new Map([['big', big], ['esc', escapes], ...many]);
  drv.args = Array.from({ length: 20_000 }, (_, i) => `arg ${i}`);
  const t0 = performance.now();
  const text = printDerivation(drv);
  const back = parseDerivation(text, { name: 'x' });
  const ms = performance.now() - t0;
  assert.equal(back.env.get('esc'), escapes);
  assert.equal(back.env.get('big'), big);
  assert.equal(back.env.size, 20_002);
  assert.ok(ms < 3000, `took ${ms.toFixed(0)} ms`);
});

test('firefox.drv parses and prints quickly', () => {
  const text = readVector('derivation/firefox.drv').toString('utf8');
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) printDerivation(parseDerivation(text, { name: 'firefox' }));
  const ms = performance.now() - t0;
  assert.ok(ms < 3000, `200 × ${text.length} bytes took ${ms.toFixed(0)} ms`);
});
