// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Nix strings contain a literal ${
// Expected values were observed with nix-instantiate (Nix 2.8.0) --eval --strict.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { printAttrName, printString, toJsonString } from './strings.js';

const b = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
const s = b('a"b\\c\nd\re\tf${g}$h $${ é 😀 \x01\x1f\x7f');

test('printString escapes like Nix 2.8 prints string values', () => {
  assert.equal(printString(s), b('"a\\"b\\\\c\\nd\\re\\tf\\${g}$h $\\${ é 😀 \x01\x1f\x7f"'));
  assert.equal(printString(''), '""');
  assert.equal(printString('$'), '"$"');
  // Escapes at either end and long runs between them.
  const run = '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-x';
  assert.equal(printString(`"${run}\n${run}$`), `"\\"${run}\\n${run}$"`);
  assert.equal(printString(`${run}\\`), `"${run}\\\\"`);
});

test('toJsonString escapes like Nix 2.8 toJSON', () => {
  assert.equal(toJsonString(s), b('"a\\"b\\\\c\\nd\\re\\tf${g}$h $${ é 😀 \\u0001\\u001f\x7f"'));
  assert.equal(toJsonString(b('\u0080\u2028😀')), b('"\u0080\u2028😀"'));
});

test('printAttrName quotes like Nix 2.8', () => {
  assert.equal(printAttrName('a b'), '"a b"');
  assert.equal(printAttrName('if'), '"if"');
  assert.equal(printAttrName('then'), 'then');
  assert.equal(printAttrName("x'-_"), "x'-_");
  assert.equal(printAttrName(''), '""');
  assert.equal(printAttrName('1a'), '"1a"');
  assert.equal(printAttrName(b('é')), b('"é"'));
  assert.equal(printAttrName('a$b'), '"a\\$b"');
});
