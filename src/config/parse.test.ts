import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from './errors.js';
import { parseConfig } from './parse.js';

function files(map: Record<string, string>) {
  return (p: string) => map[p];
}

describe('parseConfig', () => {
  it('reads name = value lines, joining value tokens with one space and dropping comments', () => {
    const text =
      '# a comment\n\n  sandbox\t=\tfalse  \nsubstituters = a   b # trailing\nbuild-users-group =\n';
    const got = parseConfig(text, { file: '/etc/tix/tix.conf', readFile: files({}) });
    assert.deepEqual(
      got.map((a) => [a.name, a.value, a.origin.line]),
      [
        ['sandbox', 'false', 3],
        ['substituters', 'a b', 4],
        ['build-users-group', '', 5],
      ],
    );
    assert.equal(got[0]!.origin.file, '/etc/tix/tix.conf');
  });

  it('rejects lines that are not name = value, naming file and line as Nix does (plus the line)', () => {
    for (const [line, n] of [
      ['foo', 2],
      ['sandbox=false', 2],
      ['foo bar', 2],
      ['include a b', 2],
    ] as const) {
      assert.throws(
        () => parseConfig(`cores = 1\n${line}\n`, { file: '/c/tix.conf', readFile: files({}) }),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.code === 'BAD_CONFIG' &&
          e.message === `illegal configuration line '${line}' in '/c/tix.conf:${n}'`,
      );
    }
  });

  it('follows include relative to the including file, and !include ignores a missing file', () => {
    const fs = files({ '/c/sub/more.conf': 'cores = 3\n!include /nowhere\n', '/c/other.conf': 'a = b' });
    const got = parseConfig('include sub/more.conf\nmax-jobs = 2\ninclude /c/other.conf\n', {
      file: '/c/tix.conf',
      readFile: fs,
    });
    assert.deepEqual(
      got.map((a) => `${a.origin.file}:${a.origin.line} ${a.name}=${a.value}`),
      ['/c/sub/more.conf:1 cores=3', '/c/tix.conf:2 max-jobs=2', '/c/other.conf:1 a=b'],
    );
  });

  it('fails on a missing include with the including place, and on include cycles', () => {
    assert.throws(
      () => parseConfig('\ninclude gone.conf', { file: '/c/tix.conf', readFile: files({}) }),
      /^ConfigError: file '\/c\/gone.conf' included from '\/c\/tix.conf:2' not found$/,
    );
    const loop = files({ '/c/a.conf': 'include a.conf' });
    assert.throws(
      () => parseConfig('include a.conf', { file: '/c/tix.conf', readFile: loop }),
      (e: unknown) => e instanceof ConfigError && e.code === 'INCLUDE_DEPTH',
    );
  });

  it('resolves includes of TIX_CONFIG against the given base directory', () => {
    const got = parseConfig('include x.conf', {
      file: 'TIX_CONFIG',
      baseDir: '/work',
      readFile: files({ '/work/x.conf': 'keep-going = true' }),
    });
    assert.deepEqual(got[0]!.origin, { file: '/work/x.conf', line: 1 });
  });
});
