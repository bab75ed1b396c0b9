// Expected values were observed with nix-instantiate (Nix 2.8.0) --eval --strict.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileRegex, RegexError, regexMatch, regexSplit } from './regex.js';

const b = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

test('match: whole string, groups, null for non-participating groups', () => {
  assert.equal(regexMatch('b', 'abc'), null);
  assert.deepEqual(regexMatch('abc', 'abc'), []);
  assert.deepEqual(regexMatch('a(b)(c)', 'abc'), ['b', 'c']);
  assert.deepEqual(regexMatch('a(b)?c', 'ac'), [null]);
  assert.deepEqual(regexMatch('(a)(b)?', 'a'), ['a', null]);
  assert.deepEqual(regexMatch('(a)|b', 'b'), [null]);
  assert.deepEqual(regexMatch('[[:space:]]+([[:upper:]]+)[[:space:]]+', '  FOO   '), ['FOO']);
  assert.deepEqual(regexMatch('(a|ab)(c|bcd)(d*)', 'abcd'), ['a', 'bcd', '']);
  assert.deepEqual(regexMatch('(|a)', 'a'), ['a']);
  assert.deepEqual(regexMatch('()', ''), ['']);
  assert.deepEqual(regexMatch('(a){0}', ''), [null]);
  assert.deepEqual(regexMatch('(a|b)*c', 'abc'), ['b']);
});

test('match: libstdc++ loop semantics that JavaScript does not share', () => {
  assert.deepEqual(regexMatch('((a)|b)*', 'ab'), ['b', 'a']);
  assert.deepEqual(regexMatch('(a|(b))*', 'ba'), ['a', 'b']);
  assert.deepEqual(regexMatch('(a?)*', 'a'), ['']);
  assert.deepEqual(regexMatch('(a?)*', 'aa'), ['']);
  assert.deepEqual(regexMatch('(a*)*', ''), ['']);
  assert.deepEqual(regexMatch('(a*)+', ''), ['']);
  assert.deepEqual(regexMatch('()*', ''), ['']);
});

test('match: syntax accepted the libstdc++ way', () => {
  for (const [re, s] of [
    ['a**', 'aa'],
    ['a*?', 'aa'],
    ['[\\]', '\\'],
    ['[a\\]]', 'a]'],
    ['a{2,3}', 'aaa'],
    ['a{1}{2}', 'aa'],
    ['a{1,2}{3}', 'aaaa'],
    ['a{01}', 'a'],
    ['a{0}', ''],
    ['[]a]+', ']a'],
    ['[^]]', 'a'],
    ['[a-]+', 'a-'],
    ['[-a]+', 'a-'],
    ['[--0]', '.'],
    ['[%--]', '+'],
    ['[[]', '['],
    ['[[:digit:][:upper:]]+', 'A1'],
    ['[[:w:]]+', 'a_1'],
    ['[[:D:]]', '1'],
    ['[[:ALPHA:]]', 'a'],
    ['[[=a=]]', 'A'],
    ['[[.hyphen.]]', '-'],
    ['[[.space.]]', ' '],
    ['[[:blank:]]', '\t'],
    ['\\.', '.'],
    ['\\{', '{'],
    ['\\)', ')'],
    ['\\|', '|'],
    ['}', '}'],
    [']', ']'],
    ['x|', ''],
    ['a|^b', 'b'],
    ['^a$', 'a'],
  ] as const) {
    assert.deepEqual(regexMatch(re, s), [], `${re} on ${s}`);
  }
  assert.equal(regexMatch('a^b', 'ab'), null);
  assert.equal(regexMatch('$a', 'a'), null);
  assert.equal(regexMatch('x(^a)', 'xa'), null);
  assert.deepEqual(regexMatch('(^a)', 'a'), ['a']);
  assert.equal(regexMatch('[[.NUL.]]', 'a'), null);
});

test('match: invalid patterns', () => {
  for (const re of [
    '\\d',
    '\\1',
    '\\n',
    '\\w',
    '\\}',
    '\\]',
    'a{,3}',
    'a{',
    'a{ 1}',
    'a{3,2}',
    '(',
    ')',
    '+',
    '*a',
    'a|*b',
    '(*a)',
    '^*',
    '[b-a]',
    '[a-c-e]',
    '[a--]',
    '[[:alpha:]-z]',
    '[[:foo:]]',
    '[[:word:]]',
    '[a',
    '[]',
    '[^]',
    '(a*)b\\1',
    '\\',
  ]) {
    assert.throws(
      () => regexMatch(re, 'x'),
      (e: unknown) =>
        e instanceof RegexError &&
        e.code === 'INVALID_REGEX' &&
        e.message === `invalid regular expression '${re}'`,
      re,
    );
  }
  assert.throws(() => compileRegex('a{1000}{1000}'), {
    message: "memory limit exceeded by regular expression 'a{1000}{1000}'",
  });
});

test('match works on bytes', () => {
  assert.equal(regexMatch('.', b('é')), null);
  assert.deepEqual(regexMatch('..', b('é')), []);
  assert.deepEqual(regexMatch(b('é*'), b('é')), []);
  assert.equal(regexMatch('[[:alpha:]]+', b('aé')), null);
  assert.deepEqual(regexMatch('(.)(.*)', b('éa')), ['\xc3', '\xa9a']);
});

test('split', () => {
  assert.deepEqual(regexSplit('(a)b', 'abc'), ['', ['a'], 'c']);
  assert.deepEqual(regexSplit('([ac])', 'abc'), ['', ['a'], 'b', ['c'], '']);
  assert.deepEqual(regexSplit('(a)|(c)', 'abc'), ['', ['a', null], 'b', [null, 'c'], '']);
  assert.deepEqual(regexSplit('([[:upper:]]+)', '  FOO   '), ['  ', ['FOO'], '   ']);
  assert.deepEqual(regexSplit('(a|ab)', 'abc'), ['', ['ab'], 'c']);
  assert.deepEqual(regexSplit('a*', 'baaac'), ['', [], 'b', [], '', [], 'c', [], '']);
  assert.deepEqual(regexSplit('(a|ab)*', 'ababc'), ['', ['ab'], '', [null], 'c', [null], '']);
  assert.deepEqual(regexSplit('', 'ab'), ['', [], 'a', [], 'b', [], '']);
  assert.deepEqual(regexSplit('x*', 'ab'), ['', [], 'a', [], 'b', [], '']);
  assert.deepEqual(regexSplit('(a)|b', 'cab'), ['c', ['a'], '', [null], '']);
  assert.deepEqual(regexSplit('^a', 'aaa'), ['', [], 'aa']);
  assert.deepEqual(regexSplit('a$', 'aaa'), ['aa', [], '']);
  assert.deepEqual(regexSplit('(a)*', 'aab'), ['', ['a'], '', [null], 'b', [null], '']);
  assert.deepEqual(regexSplit('(a|b)', 'xaybz'), ['x', ['a'], 'y', ['b'], 'z']);
  assert.deepEqual(regexSplit('(ab|a)(c|bcd)?', 'abcd'), ['', ['a', 'bcd'], '']);
  assert.deepEqual(regexSplit('(a|ab)(c|bcd)?', 'abcd'), ['', ['a', 'bcd'], '']);
  assert.deepEqual(regexSplit('(|a)', 'aa'), ['', ['a'], '', ['a'], '', [''], '']);
  assert.deepEqual(regexSplit('^|a', 'aa'), ['', [], '', [], '']);
  assert.deepEqual(regexSplit('x', 'abc'), ['abc']);
});

test('the emulation handles long inputs without exhausting the stack', () => {
  const s = 'ab'.repeat(50000);
  assert.deepEqual(regexMatch('((a)|b)*', s), ['b', 'a']);
  assert.equal(regexSplit('(a|b)', s).length, 200001);
});
