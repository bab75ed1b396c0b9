// Expected values were observed with nix-instantiate (Nix 2.8.0) --eval --strict.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareVersions, parseDrvName, splitVersion } from './versions.js';

const b = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

test('compareVersions', () => {
  const cases: [string, string, number][] = [
    ['1.0', '2.3', -1],
    ['2.1', '2.3', -1],
    ['2.3', '2.3', 0],
    ['2.5', '2.3', 1],
    ['3.1', '2.3', 1],
    ['2.3.1', '2.3', 1],
    ['2.3.1', '2.3a', 1],
    ['2.3pre1', '2.3', -1],
    ['2.3pre3', '2.3pre12', -1],
    ['2.3a', '2.3c', -1],
    ['2.3pre1', '2.3c', -1],
    ['2.3pre1', '2.3q', -1],
    ['1.0', '1-0', 0],
    ['99999999999', '9', -1],
    ['99999999999', 'a', -1],
    ['', '0', -1],
    ['1.0', '1.0.0', -1],
    ['1a', '1b', -1],
    ['2147483647', '2147483648', 1],
    ['1..2', '1.2', 0],
    ['1.2', '1.2-pre', 1],
    ['r', 'pre', 1],
  ];
  for (const [a, c, r] of cases) assert.equal(compareVersions(a, c), r, `${a} vs ${c}`);
});

test('splitVersion', () => {
  assert.deepEqual(splitVersion('1.2.3'), ['1', '2', '3']);
  assert.deepEqual(splitVersion('1.2-3a'), ['1', '2', '3', 'a']);
  assert.deepEqual(splitVersion(''), []);
  assert.deepEqual(splitVersion('...'), []);
  assert.deepEqual(splitVersion('a.b-c'), ['a', 'b', 'c']);
  assert.deepEqual(splitVersion('1.2pre3'), ['1', '2', 'pre', '3']);
  assert.deepEqual(splitVersion('12abc34'), ['12', 'abc', '34']);
  assert.deepEqual(splitVersion(b('1é2')), ['1', b('é'), '2']);
});

test('parseDrvName', () => {
  const cases: [string, string, string][] = [
    ['apache-httpd-2.0.48', 'apache-httpd', '2.0.48'],
    ['foo', 'foo', ''],
    ['foo-', 'foo-', ''],
    ['foo-1', 'foo', '1'],
    ['a-b-c', 'a-b-c', ''],
    [b('foo-é'), 'foo', b('é')],
    ['-1', '', '1'],
    ['nix-0.12pre12876', 'nix', '0.12pre12876'],
  ];
  for (const [s, name, version] of cases) assert.deepEqual(parseDrvName(s), { name, version }, s);
});
