import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evalError, evalPrint, evalPrintLazy } from '../test-util.js';

const D = 'derivation { name = "d"; system = "x"; builder = "b";';
const pos = (line: number, column: number) =>
  `{ column = ${column}; file = "//builtin/derivation.nix"; line = ${line}; }`;

test('derivation is the Nix 2.8 lambda (functionArgs, typeOf)', () => {
  assert.equal(evalPrint('builtins.functionArgs derivation'), '{ outputs = true; }');
  assert.equal(evalPrint('builtins.typeOf derivation'), '"lambda"');
});

test('derivation: attributes sit where Nix 2.8 reports them, drvAttrs keeps its own', () => {
  const names = '[ "all" "drvAttrs" "out" "dev" "outPath" "drvPath" "type" "outputName" ]';
  assert.equal(
    evalPrint(
      `let d = ${D} outputs = [ "out" "dev" ]; }; in map (n: builtins.unsafeGetAttrPos n d) ${names}`,
    ),
    `[ ${pos(12, 7)} ${pos(13, 14)} ${pos(18, 7)} ${pos(18, 7)} ${pos(19, 9)} ${pos(20, 9)} ${pos(21, 9)} ${pos(22, 16)} ]`,
  );
  assert.equal(evalPrint(`(builtins.unsafeGetAttrPos "name" (${D} })).column`), '49');
});

test('derivation: one set per output; later definitions win, the first output name wins', () => {
  assert.equal(
    evalPrint(`builtins.attrNames (${D} outputs = [ "dev" "out" "dev" ]; })`),
    '[ "all" "builder" "dev" "drvAttrs" "drvPath" "name" "out" "outPath" "outputName" "outputs" "system" "type" ]',
  );
  const d = `${D} outputs = [ "dev" "out" ]; all = 1; out = 2; outPath = 4; }`;
  assert.equal(
    evalPrint(`let d = ${d}; in [ d.outputName d.out.outputName (builtins.length d.all) d.drvAttrs.out
      (map (x: x.outputName) d.all) (d.out.drvPath == d.drvPath) (d.outPath == d.dev.outPath)
      (d.outPath == d.out.outPath) d.type ]`),
    '[ "dev" "out" 2 2 [ "dev" "out" ] true true false "derivation" ]',
  );
});

test('derivation: outputs are checked lazily, as the Nix wrapper does', () => {
  // `type` needs the output names (commonAttrs) but not derivationStrict.
  assert.equal(evalPrint('(derivation { name = "d"; outputs = [ "a" ]; }).type'), '"derivation"');
  assert.match(evalError(`(${D} outputs = [ "a" 1 ]; }).type`).message, /a string was expected/);
  assert.match(evalError(`${D} outputs = [ ]; }`).message, /out of bounds/);
  assert.match(evalError(`${D} outputs = 1; }`).message, /a list was expected/);
  assert.match(evalError('(derivation { name = "d"; system = "x"; }).outPath').message, /'builder' missing/);
  assert.match(evalError('derivation 1').message, /a set was expected/);
});

test('derivation: `all` holds one unevaluated element per output, as `map` makes them', () => {
  assert.equal(evalPrintLazy(`let d = ${D} }; in builtins.seq d.outPath d.all`), '[ <CODE> ]');
  assert.equal(
    evalPrintLazy(`let d = ${D} outputs = [ "out" "dev" ]; }; in builtins.seq d.dev.type d.all`),
    '[ <CODE> <CODE> ]',
  );
  assert.equal(evalPrint(`let d = ${D} }; in (builtins.head d.all).outputName`), '"out"');
});

test('derivation: an empty outputHash with an algorithm is all zeroes, with a warning', () => {
  const lines: string[] = [];
  const out = evalPrint(`(${D} outputHash = ""; outputHashAlgo = "sha256"; }).outPath`, {
    trace: (l: string) => lines.push(l),
  });
  assert.match(out, /^"\/nix\/store\/[0-9a-z]{32}-d"$/);
  assert.deepEqual(lines, [
    "warning: found empty hash, assuming 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='",
  ]);
});
