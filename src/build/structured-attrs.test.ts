import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dumpFloat, dumpJson, isJsonObject, parseJson } from './json.js';
import { shellEscape, structuredAttrsJson, structuredAttrsShell } from './structured-attrs.js';

// Captured from Nix 2.8.0 building a derivation with __structuredAttrs = true (see env.test.ts).
const JSON_IN =
  '{"bad-key":1,"builder":"/bin/bash","count":3,"deep":{"a":{"b":1}},"fl":1.5,"flag":true,"list":["a","b"],"mixed":[1,"a"],"name":"sadump","neg":-4,"nested":{"s":"q\'uote","x":1},"no":false,"nul":null,"str":"it\'s","system":"x86_64-linux"}';
const OUT = '/nix/store/nbr238dvxayyv0cskadfxkayrksw2axf-sadump';
const NIX_ATTRS_JSON = `{"bad-key":1,"builder":"/bin/bash","count":3,"deep":{"a":{"b":1}},"fl":1.5,"flag":true,"list":["a","b"],"mixed":[1,"a"],"name":"sadump","neg":-4,"nested":{"s":"q'uote","x":1},"no":false,"nul":null,"outputs":{"out":"${OUT}"},"str":"it's","system":"x86_64-linux"}`;
const NIX_ATTRS_SH = `declare builder='/bin/bash'
declare count=3
declare flag=1
declare -a list=('a' 'b' )
declare -a mixed=(1 'a' )
declare name='sadump'
declare neg=-4
declare -A nested=(['s']='q'\\''uote' ['x']=1 )
declare no=
declare nul=''
declare -A outputs=(['out']='${OUT}' )
declare str='it'\\''s'
declare system='x86_64-linux'
`;

function withOutputs() {
  const v = parseJson(JSON_IN, 'test');
  assert.ok(isJsonObject(v));
  v.outputs = { out: OUT };
  return v;
}

test('.attrs.json and .attrs.sh match Nix 2.8 byte for byte', () => {
  const v = withOutputs();
  assert.equal(structuredAttrsJson(v), NIX_ATTRS_JSON);
  assert.equal(structuredAttrsShell(v), NIX_ATTRS_SH);
});

test('shellEscape quotes like Nix', () => {
  assert.equal(shellEscape("it's"), "'it'\\''s'");
  assert.equal(shellEscape(''), "''");
});

test('numbers in .attrs.sh follow 2.8 float/int conversion', () => {
  const v = parseJson('{"big":4294967297,"f":2.0,"g":2.5,"h":1e300}', 't');
  assert.ok(isJsonObject(v));
  // 2^32+1 wraps to 1 as a C int; 2.0 prints as 2; 2.5 is skipped; 1e300 is integral but out of range
  assert.equal(structuredAttrsShell(v), 'declare big=1\ndeclare f=2\ndeclare h=-2147483648\n');
});

test('JSON keeps int64 precision and sorts keys byte-wise', () => {
  const v = parseJson('{"b":9007199254740993,"a":-9223372036854775808,"é":1,"Z":2}', 't');
  assert.equal(dumpJson(v), '{"Z":2,"a":-9223372036854775808,"b":9007199254740993,"é":1}');
});

test('floats print like nlohmann', () => {
  assert.equal(dumpFloat(1.5), '1.5');
  assert.equal(dumpFloat(2), '2.0');
  assert.equal(dumpFloat(1e20), '1e+20');
  assert.equal(dumpFloat(1e15), '1e+15');
  assert.equal(dumpFloat(1e16), '1e+16');
  assert.equal(dumpFloat(123456789012345), '123456789012345.0');
  assert.equal(dumpFloat(0.001), '0.001');
  assert.equal(dumpFloat(0.0001), '0.0001');
  assert.equal(dumpFloat(0.00001), '1e-05');
  assert.equal(dumpFloat(-2.5e-7), '-2.5e-07');
  assert.equal(dumpFloat(0), '0.0');
});

test('strings escape only controls, quotes and backslashes', () => {
  assert.equal(dumpJson('a"b\\c\n\u0001/é\u007f'), '"a\\"b\\\\c\\n\\u0001/é\u007f"');
  assert.equal(parseJson('"\\u00e9\\/"', 't'), 'é/');
});

test('bad JSON is a BuildError with a byte offset', () => {
  assert.throws(() => parseJson('{"a":}', 'x'), { name: 'BuildError', message: /at byte 5/ });
});
