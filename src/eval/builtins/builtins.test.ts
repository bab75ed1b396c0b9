// Builtins; expected values are Nix 2.8's (computed with nix-instantiate 2.8 and a dummy store).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { evalError, evalPrint } from '../test-util.js';

const D =
  'derivation { name = "hello"; system = "x86_64-linux"; builder = "/bin/sh"; args = ["-c" "echo hi > $out"]; }';

test('derivation: .drv and output paths are those of Nix 2.8', () => {
  const expr = `let d = ${D};
    e = derivation { name = "e"; system = "x86_64-linux"; builder = "\${d}/bin/sh"; outputs = ["out" "dev"]; x = d; };
    f = derivation { name = "f"; system = "x"; builder = "b"; outputHash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="; outputHashMode = "recursive"; y = e.dev; };
  in [ d.drvPath d.outPath e.dev.outPath (builtins.attrNames d) f.drvPath f.outPath e.drvPath ]`;
  assert.equal(
    evalPrint(expr),
    '[ "/nix/store/76w21n1f03fs5kw8fnffphx7qrqffw6r-hello.drv" "/nix/store/mjs27ix6ig2bkbi3s3sm470vrv4lf7ic-hello" ' +
      '"/nix/store/dw37rhjvh8gcx9cjgagf940vqk3yl8sx-e-dev" [ "all" "args" "builder" "drvAttrs" "drvPath" "name" "out" ' +
      '"outPath" "outputName" "system" "type" ] "/nix/store/agxvgqkxbs3i44br6br0j9d72h7h93rg-f.drv" ' +
      '"/nix/store/23qvwckf0gjik4ws6ybmq4hjk0z6c3zc-f" "/nix/store/f71gx1dy0drycazhpbldqylykmgil2vk-e.drv" ]',
  );
});

test('derivation: structured attrs, __ignoreNulls, coercions of env values', () => {
  const a = 'name = "a"; system = "x"; builder = "y";';
  assert.equal(
    evalPrint(`[ (derivation { ${a} __contentAddressed = false; __impure = false; }).drvPath
      (derivation { ${a} __structuredAttrs = true; l = [ 1 2.5 "x" { a = null; } ]; outputs = ["out" "bin"]; }).drvPath
      (derivation { ${a} __ignoreNulls = true; x = null; }).drvPath
      (derivation { ${a} x = null; z = true; w = false; f = 1.5; l = [1 [2] null]; }).drvPath ]`),
    '[ "/nix/store/046nslrgj26ds8rqyxhbhvccjr73hxwh-a.drv" "/nix/store/17q4kxkyk6jghhmjspvjqdn4r4kwy83r-a.drv" ' +
      '"/nix/store/046nslrgj26ds8rqyxhbhvccjr73hxwh-a.drv" "/nix/store/239qy9d6h487ydgh15x3942zmm5jg31q-a.drv" ]',
  );
  assert.match(
    evalError(`derivation { ${a} __contentAddressed = true; }`).message,
    /experimental Nix feature 'ca-derivations'/,
  );
  assert.match(
    evalError('derivation { name = "a"; system = "x"; }').message,
    /required attribute 'builder' missing/,
  );
});

test('<nix/fetchurl.nix> gives the fixed-output derivations of Nix 2.8', () => {
  assert.equal(
    evalPrint(`let f = import <nix/fetchurl.nix> { url = "http://x/y.tar.gz"; sha256 = "1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9"; };
      g = import <nix/fetchurl.nix> { url = "http://x/y.tar.gz"; hash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="; unpack = true; };
      in [ f.drvPath g.drvPath g.outPath ]`),
    '[ "/nix/store/kpqkrkjfm26anvnblvv5i96vmid9yfzn-y.tar.gz.drv" "/nix/store/4dp1mjqpm0dd1wij4c7660cq1f0yndl4-y.tar.gz.drv" ' +
      '"/nix/store/0pndhyq8k40slgkq5ys8y0wyhhb9ipgr-y.tar.gz" ]',
  );
});

test('string contexts: getContext, placeholder, toFile, path, filterSource', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tix-builtins-'));
  mkdirSync(join(dir, 'etc'));
  writeFileSync(
    join(dir, 'etc/nix.conf'),
    'sandbox = false\nbuild-users-group =\nsubstituters =\nexperimental-features = nix-command\n',
  );
  writeFileSync(join(dir, 't.nix'), 'let\n  f = x: x.y;\nin\n  f { z = 1; }\n');
  const expr = `let d = ${D};
    e = derivation { name = "e"; system = "x86_64-linux"; builder = "\${d}/bin/sh"; outputs = ["out" "dev"]; x = d; };
    f = derivation { name = "f"; system = "x"; builder = "b"; outputHash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="; outputHashMode = "recursive"; y = e.dev; };
  in [ (builtins.toFile "x" "\${./t.nix}") "\${./t.nix}" (placeholder "out") (builtins.getContext e.drvPath)
       (builtins.getContext "\${e.dev}\${f}") (builtins.path { path = ./etc; name = "foo"; filter = p: t: true; })
       (builtins.filterSource (p: t: false) ./etc) ]`;
  assert.equal(
    evalPrint(expr, { cwd: dir }).replaceAll(dir, '/DIR'),
    '[ "/nix/store/rcvyvwdn7bfp14yhv4qmz1r1bdj1k5x5-x" "/nix/store/12l6a8j78lph7fv8xcwrp40ik68jlz06-t.nix" ' +
      '"/1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9" ' +
      '{ "/nix/store/f71gx1dy0drycazhpbldqylykmgil2vk-e.drv" = { allOutputs = true; }; } ' +
      '{ "/nix/store/agxvgqkxbs3i44br6br0j9d72h7h93rg-f.drv" = { outputs = [ "out" ]; }; ' +
      '"/nix/store/f71gx1dy0drycazhpbldqylykmgil2vk-e.drv" = { outputs = [ "dev" ]; }; } ' +
      '"/nix/store/l5qbjh3b6jwckmzyp5lpbk931qr3r2gk-foo" "/nix/store/l4qv3rnr36l876mmp9bqkkqa75sg4b7r-etc" ]',
  );
  assert.match(
    evalError(`builtins.toFile "x" "\${(${D}).drvPath}"`).message,
    /^in 'toFile': the file named 'x' must not contain a reference to a derivation but contains \(=\/nix\/store\/[a-z0-9]{32}-[^)]+\.drv\)$/,
  );
});

test('lists, sets and strings', () => {
  const cases: [string, string][] = [
    ['builtins.sort (a: b: a < b) [ 3 1 2 1 ]', '[ 1 1 2 3 ]'],
    [
      'builtins.sort (a: b: a.k < b.k) [ { k = 1; v = "a"; } { k = 0; v = "b"; } { k = 1; v = "c"; } ]',
      '[ { k = 0; v = "b"; } { k = 1; v = "a"; } { k = 1; v = "c"; } ]',
    ],
    ['builtins.attrNames { "😀" = 1; "ｚ" = 2; z = 3; "é" = 4; }', '[ "z" "é" "ｚ" "😀" ]'],
    ['builtins.listToAttrs [ { name = "a"; value = 1; } { name = "a"; value = 2; } ]', '{ a = 1; }'],
    ['builtins.replaceStrings [""] ["X"] "abc"', '"XaXbXcX"'],
    ['builtins.match "b" "abc"', 'null'],
    ['builtins.match "a(b)?c" "ac"', '[ null ]'],
    ['builtins.split "(a)|b" "xaybz"', '[ "x" [ "a" ] "y" [ null ] "z" ]'],
    ['builtins.stringLength "😀"', '4'],
    ['builtins.substring 1 2 "hello"', '"el"'],
    [
      'builtins.genericClosure { startSet = [ { key = 1; } ]; operator = x: if x.key < 3 then [ { key = x.key + 1; } ] else []; }',
      '[ { key = 1; } { key = 2; } { key = 3; } ]',
    ],
    ['builtins.functionArgs ({ a, b ? 1 }: a)', '{ a = false; b = true; }'],
    [
      'builtins.toJSON { a = [ 1 2.5 "x\\n" null true ]; b = { outPath = "/p"; }; }',
      '"{\\"a\\":[1,2.5,\\"x\\\\n\\",null,true],\\"b\\":\\"/p\\"}"',
    ],
    [
      'builtins.fromJSON "{\\"a\\":[1,2.5,\\"\\\\u00e9\\"],\\"b\\":null}"',
      '{ a = [ 1 2.5 "é" ]; b = null; }',
    ],
    [
      'builtins.toXML { a = 1; }',
      '"<?xml version=\'1.0\' encoding=\'utf-8\'?>\\n<expr>\\n  <attrs>\\n    <attr name=\\"a\\">\\n      <int value=\\"1\\" />\\n    </attr>\\n  </attrs>\\n</expr>\\n"',
    ],
    [
      'builtins.hashString "sha256" "abc"',
      '"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"',
    ],
    ['builtins.parseDrvName "hello-2.1.1"', '{ name = "hello"; version = "2.1.1"; }'],
    ['builtins.compareVersions "1.0" "1.0pre1"', '1'],
    ['builtins.zipAttrsWith (n: v: v) [ { a = 1; } { a = 2; b = 3; } ]', '{ a = [ 1 2 ]; b = [ 3 ]; }'],
    ['builtins.groupBy (x: if x > 1 then "big" else "small") [ 1 2 3 ]', '{ big = [ 2 3 ]; small = [ 1 ]; }'],
    ['builtins.fromTOML "a = 1\\n[b]\\nc = \\"x\\""', '{ a = 1; b = { c = "x"; }; }'],
    [
      'builtins.unsafeDiscardStringContext "${builtins.toFile "a" "b"}"',
      '"/nix/store/g76zcpqc540lrc8i6g7xy6ip0npn2hnp-a"',
    ],
    ['builtins.typeOf 1.5', '"float"'],
    ['builtins.bitXor 5 3', '6'],
    ['builtins.ceil 1.5', '2'],
    ['builtins.elemAt [ 1 2 ] 1', '2'],
    ['builtins.concatStringsSep "," [ "a" "b" ]', '"a,b"'],
    ['builtins.dirOf "/a/b"', '"/a"'],
    ['baseNameOf "/a/b/"', '"b"'],
  ];
  for (const [expr, expected] of cases) assert.equal(evalPrint(expr), expected, expr);
});

test('the search path: -I entries, <nix/...>, and a clear error mentioning <tix>', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tix-sp-'));
  writeFileSync(join(dir, 'x.nix'), '"from search path"\n');
  assert.equal(evalPrint('import <sp/x.nix>', { nixPath: [`sp=${dir}`] }), '"from search path"');
  assert.equal(evalPrint('builtins.isFunction (import <nix/fetchurl.nix>)'), 'true');
  const e = evalError('<nixpkgs>');
  assert.equal(e.code, 'SEARCH_PATH');
  assert.match(e.hint ?? '', /<tix>/);
});

test("bitAnd/bitOr/bitXor are 64-bit two's complement operations", () => {
  const xs = [
    0n,
    1n,
    -1n,
    5n,
    -5n,
    4294967295n,
    4294967296n,
    -4294967296n,
    9007199254740991n,
    -9007199254740991n,
  ];
  xs.push(123456789012345n, -98765432109876n, 9223372036854775807n, -9223372036854775807n);
  const lit = (x: bigint) => (x < 0n ? `(${x})` : `${x}`);
  for (const a of xs) {
    for (const b of xs) {
      const got = evalPrint(
        `[ (builtins.bitAnd ${lit(a)} ${lit(b)}) (builtins.bitOr ${lit(a)} ${lit(b)}) (builtins.bitXor ${lit(a)} ${lit(b)}) ]`,
      );
      assert.equal(
        got,
        `[ ${BigInt.asIntN(64, a & b)} ${BigInt.asIntN(64, a | b)} ${BigInt.asIntN(64, a ^ b)} ]`,
        `${a} ${b}`,
      );
    }
  }
});

test('genList: a list of 2^32 elements or more fails as Nix 2.8 fails to allocate it', () => {
  assert.equal(evalError('builtins.genList (x: x) 4294967296').message, 'out of memory');
  assert.equal(evalPrint('builtins.length (builtins.genList (x: x) 3)'), '3');
});

test("sort compares in libstdc++ std::stable_sort's order, as Nix 2.8 (traces and inconsistent comparators)", () => {
  const lines: string[] = [];
  const out = evalPrint(
    'builtins.sort (a: b: builtins.trace "${toString a}<${toString b}" (a < b)) [ 5 3 9 1 7 2 8 6 4 0 11 ]',
    { trace: (l: string) => lines.push(l.replace(/^trace: /, '')) },
  );
  assert.equal(out, '[ 0 1 2 3 4 5 6 7 8 9 11 ]');
  // The comparisons nix-instantiate 2.8 traces for this list, in its order.
  const nix28 =
    '3<5 9<3 9<5 1<3 7<1 7<9 7<5 2<1 2<9 2<7 2<5 2<3 2<1 6<8 4<6 0<4 11<0 11<8 11<9 8<9 8<7 6<7 6<5 4<5 4<3 0<3 0<2 0<1';
  assert.equal(lines.join(' '), nix28);
  // A comparator that is no order still gives Nix's result.
  assert.equal(evalPrint('builtins.sort (a: b: true) (builtins.genList (x: x) 9)'), '[ 8 7 6 5 4 3 2 1 0 ]');
});
