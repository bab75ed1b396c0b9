// The "#!" reading of tix shell's arguments (commands/shell.test.ts runs scripts against nix-shell).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { interpreterCommand, readShebang, shellwords } from './shell-shebang.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-shebang-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('shellwords: whitespace splits, double quotes group and go, a backslash keeps the next character', () => {
  assert.deepEqual(shellwords('-i bash  -p hello'), ['-i', 'bash', '-p', 'hello']);
  assert.deepEqual(shellwords('--argstr x "two words" a"b c"d'), ['--argstr', 'x', 'two words', 'ab cd']);
  assert.deepEqual(shellwords('a\\ b \\"q\\" "x\\"y"'), ['a b', '"q"', 'x"y']);
  assert.deepEqual(shellwords(''), []);
});

test('only a file whose first line starts with #! is a script; its #! nix-shell lines are the arguments', () => {
  const script = join(tmp, 's.sh');
  writeFileSync(
    script,
    '#! /usr/bin/env nix-shell\n#! nix-shell -i bash\r\n# a comment\n#!nix-shell --pure -p "a b"\n#! tix shell --keep K\necho\n#! nix-shell --late\n',
  );
  assert.deepEqual(readShebang(['s.sh', 'x', 'y z'], tmp), {
    script: 's.sh',
    args: ['-i', 'bash', '--pure', '-p', 'a b', '--keep', 'K', '--late'],
    scriptArgs: ['x', 'y z'],
  });
  writeFileSync(join(tmp, 'plain.nix'), '{ }: 1\n');
  assert.equal(readShebang(['plain.nix'], tmp), undefined);
  assert.equal(readShebang(['--pure'], tmp), undefined);
  assert.equal(readShebang(['missing.sh'], tmp), undefined);
  assert.equal(readShebang([], tmp), undefined);
});

test('-i runs the interpreter on the script and its arguments, with perl and ruby kept off the #! line', () => {
  assert.equal(interpreterCommand('bash', '/s/x.sh', ["it's", 'b']), "exec  bash '/s/x.sh' 'it'\\''s' 'b' ");
  assert.equal(interpreterCommand('perl', 'x.pl', []), "exec -a PERL perl 'x.pl' ");
  assert.equal(interpreterCommand('ruby', 'x.rb', ['a']), "exec  ruby -e 'load(ARGV.shift)' -- 'x.rb' 'a' ");
});
