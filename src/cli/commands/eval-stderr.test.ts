// `tix eval` writes the whole of an error as nix-instantiate 2.8 does, compared in the same run:
// message lines indented and trailing blanks dropped, source excerpts (a file's unterminated last
// line not shown), "Did you mean" suggestions, where infinite recursion is reported, and where
// errors point: operations, interpolations, calls, builtins' arguments, an unexpected end of file.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { noNix, runCliOnStore, runNix } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-eval-stderr-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function sameStderr(args: string[]): Promise<void> {
  const ours = await runCliOnStore(tmp, 'tix-root', ['eval', ...args]);
  const theirs = runNix(tmp, 'nix-instantiate', ['--eval', ...args]);
  assert.equal(ours.code, theirs.status, args.join(' '));
  assert.equal(ours.stderr, theirs.stderr, args.join(' '));
}

test('errors read byte for byte as with nix-instantiate', { skip: noNix }, async () => {
  for (const expr of [
    'throw "a  \\nb\\t\\n\\n  c  \\n\\n"',
    'builtins.abort "m\\n"',
    'let f = { abc, abd, xyz, ab }: 1; in f { abc = 1; abd = 1; xyz = 1; ab = 1; ac = 2; }',
    '{ abc = 1; abd = 1; ab = 1; a = 1; b = 1; c = 1; ac1 = 1; }.ac',
    'let x = x; in x',
    'let a = { b = a.b; }; in a.b',
    'let s = { inherit (s) a; }; in s.a',
  ]) {
    await sameStderr(['-E', expr]);
    await sameStderr(['--show-trace', '-E', expr]);
  }
  const file = join(tmp, 'e.nix');
  writeFileSync(file, 'let\n  y = 1;   \n  x = builtins.foo;  \n\tz = 2;\t\nin x\n');
  await sameStderr([file]);
  writeFileSync(file, 'let\n  x = 1;\nin x.y');
  await sameStderr([file]);
  writeFileSync(file, '{ abc = 1; abd = 2; }\n');
  await sameStderr([file, '-A', 'ab']);
});

test('errors point where nix-instantiate 2.8 points them', { skip: noNix }, async () => {
  const exprs = [
    // an interpolation's errors at its `${`
    '"a${{}}"',
    "''\n  ab ${{}}''",
    'let x = {}; in /a/${x}',
    // an operation's, a call's, a selection's, an `if`'s at the start of the whole expression
    ' (1) ++ []',
    'let a = { b = 1; }; in  a.b ++ []',
    ' 1 - 2 - (3 / 0)',
    ' true -> 1',
    ' if 1 then 1 else 2',
    ' (foo@{ }: 1) { a = 3; }',
    ' (removeAttrs { y = 1; } [ "x" ]).x',
    'let ${"a"} = 1; in a',
    '{ a, b, b, a }: 1',
    'a@{ a }: 1',
    // derivationStrict: at `name`, or at the attribute being coerced
    'builtins.derivationStrict { }',
    'builtins.derivationStrict {\n  name = "foo";\n  builder = 1;\n  system = { };\n}',
    'builtins.derivationStrict {\n  name = "foo";\n  builder = "/bin/sh";\n  system = "x";\n  outputs = [ "out" "out" ];\n}',
    'builtins.derivationStrict {\n  name = "foo";\n  __structuredAttrs = true;\n  outputHashMode = "x";\n}',
    'builtins.derivationStrict {\n  name = "foo";\n  system = "x";\n}',
    'builtins.derivationStrict {\n  name = "foo";\n  builder = "/bin/sh";\n  args = [ {} ];\n}',
    'builtins.derivationStrict { name = "a~b"; builder = "/bin/sh"; system = "x"; }',
    // a missing attribute at the set, with the call as a frame; arguments at themselves
    'builtins.getAttr "foo" { bar = 1; }',
    'builtins.listToAttrs [ { value = 1; } ]',
    'builtins.listToAttrs [ { name = 1; } ]',
    'builtins.genericClosure { operator = x: x; }',
    'builtins.concatMap (x: 1) [ "foo" ]',
    'builtins.concatMap (x: {}) [ "foo" ]',
    'builtins.ceil {}',
    'builtins.zipAttrsWith (_: 1) [ {} 1 ]',
    // the derivation function: 2.8's line numbers, no source lines, no frame for its attributes
    '(derivation { name = "a"; builder = "/bin/sh"; system = {}; }).outPath',
    'let d = derivation { name = "a"; builder = "/bin/sh"; system = "x"; outputs = []; }; in d',
    '(derivation { name = "a"; builder = "/bin/sh"; system = "x"; outputHash = "bad"; }).outPath',
    // a feature 2.8 has behind an experimental flag, off by default
    'builtins.fetchTree { type = "file"; url = "file:///x"; }',
    'builtins.derivationStrict { name = "a"; builder = "/bin/sh"; system = "x"; __impure = true; }',
    // a builtin forcing its argument reports infinite recursion at the call
    'let f = builtins.add f 1; in toString f',
    'builtins.toJSON {\n  outPath = {\n    __toString = self: 42;\n  };\n}',
    'builtins.mapAttrs (x: y: x + 1) { foo.bar = 1; }',
    'builtins.pathExists "zorglub"',
    'builtins.filterSource (_: _: 1) /',
    'builtins.path { path = /.; recursive = 1; }',
    // an unexpected end of file at the last lexeme, whitespace and comments included
    '{ a = 1;   ',
    '{ a = 1;  /* x */  ',
    '"a${x}',
    '# foo\rinvalid\n# bar\n',
  ];
  for (const expr of exprs) {
    await sameStderr(['-E', expr]);
    await sameStderr(['--show-trace', '-E', expr]);
  }
});

test('fromJSON fails with the message of Nix 2.8 (nlohmann::json)', { skip: noNix }, async () => {
  // JSON texts as bytes (one char each), read from files so that any byte can be in them
  const texts = [
    ...['', '{', ':', '[1,]', '{"a":1,}', '{1:2}', '{"a" 1}', '{"a":1]', '[1 2]', '1 2', 'null null', '{} x'],
    ...['nul', '[true fals]', '[1, nul', '"a" "b', '\x01', '1\n\x01'],
    // positions: reading past the end, new lines, the newline given back after a number
    ...['[1,\n2\n', '{"a":\n[\n1\n', '{"a" 1\n}', '\r\n  [1 x'],
    ...[
      '-',
      '-x',
      '1.',
      '1.e5',
      '1e',
      '1e+',
      '1E-a',
      '01',
      '1.5.',
      '1e400',
      '[1, -1e400]',
      `-1${'0'.repeat(400)}`,
    ],
    ...[
      '"abc',
      '"\\x"',
      '"\\u12"',
      '"\\u12g4"',
      '"\\ud800"',
      '"\\ud800\\"',
      '"\\ud800\\u0041"',
      '"\\udc00"',
      '{"\\ud800":1}',
    ],
    ...['"a\tb"', '"\n"', '"\x01"', '"\x08"', '"\x0c"', '"\x0d"', '"\x1b"', '"\x1f"', '{"a\x0bb":1}'],
    ...[
      '"\x80"',
      '"\xc1\xbf"',
      '"\xc3"',
      '"\xe0\x80\x80"',
      '"\xed\xa0\x80"',
      '"\xf0\x8f"',
      '"\xf4\x90\x80\x80"',
      '"\xff"',
    ],
    ...['\xef\xbb\xbf[1', '\xef\xbbx', '\xef', `${'['.repeat(3000)}1`],
  ];
  for (const [i, text] of texts.entries()) {
    const file = join(tmp, `j${i}.json`);
    writeFileSync(file, Buffer.from(text, 'latin1'));
    await sameStderr(['--strict', '-E', `builtins.fromJSON (builtins.readFile ${file})`]);
  }
  // the error has no position of its own: the call is in a trace
  await sameStderr(['--show-trace', '-E', 'let f = builtins.fromJSON; in\n  f "[1,\\n2"']);
});

test('imported files, suggestions without source lines and bytes that are not UTF-8 as with 2.8', {
  skip: noNix,
}, async () => {
  const dir = join(tmp, 'files');
  mkdirSync(dir, { recursive: true });
  // An error while an imported file's expression is evaluated gets the file as a frame.
  writeFileSync(join(dir, 'throws.nix'), 'let\n  x = "\xc3\xa9";\nin\n  throw "bad ${x}"\n');
  // No newline at the end: no source lines, so the suggestion follows the position directly.
  writeFileSync(join(dir, 'missing.nix'), '{ "a1" = 1; "a2" = 2; }."a3"');
  writeFileSync(join(dir, 'bytes.txt'), Buffer.from([0x61, 0xff, 0xfe, 0x62]));
  for (const expr of [
    `import ${dir}/throws.nix`,
    `import ${dir}/missing.nix`,
    `let f = import ${dir}/throws.nix; in 1 + f`,
    `throw (builtins.readFile ${dir}/bytes.txt)`,
  ]) {
    await sameStderr(['-E', expr]);
    await sameStderr(['--show-trace', '-E', expr]);
  }
  // The file named on the command line gets no such frame.
  await sameStderr([join(dir, 'missing.nix')]);
  await sameStderr(['--show-trace', join(dir, 'missing.nix')]);
});

test('with the experimental feature on, tix says what it does not support', async () => {
  const on = await runCliOnStore(tmp, 'tix-root', [
    '--option',
    'experimental-features',
    'flakes ca-derivations',
    'eval',
    '--strict',
    '-E',
    'builtins.fetchTree 1',
  ]);
  assert.equal(on.code, 1);
  assert.match(on.stderr, /^error: 'fetchTree' is not supported by tix\n/);
  const ca = await runCliOnStore(tmp, 'tix-root', [
    '--option',
    'extra-experimental-features',
    'ca-derivations',
    'eval',
    '-E',
    '(derivation { name = "a"; builder = "/bin/sh"; system = "x"; __contentAddressed = true; }).drvPath',
  ]);
  assert.equal(ca.code, 1);
  assert.match(
    ca.stderr,
    /^error: '__contentAddressed' derivations \(ca-derivations\) are not supported by tix\n/,
  );
});
