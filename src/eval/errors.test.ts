// File errors worded as Nix 2.8 words them (observed with nix-instantiate 2.8.0 on missing
// paths, directories read as files, and unreadable entries below a copied tree).
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileErrorText, layoutMessage } from './errors.js';
import { evalError } from './test-util.js';

const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
};

test('fileErrorText names the operation and the path as Nix 2.8 does', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tix-errors-'));
  mkdirSync(join(dir, 'd'));
  const missing = join(dir, 'missing');
  assert.equal(
    fileErrorText(
      thrown(() => lstatSync(missing)),
      missing,
    ),
    `getting status of '${missing}': No such file or directory`,
  );
  assert.equal(
    fileErrorText(
      thrown(() => readFileSync(missing)),
      missing,
    ),
    `opening file '${missing}': No such file or directory`,
  );
  assert.equal(
    fileErrorText(
      thrown(() => readdirSync(missing)),
      missing,
    ),
    `opening directory '${missing}': No such file or directory`,
  );
  assert.equal(
    fileErrorText(
      thrown(() => readFileSync(join(dir, 'd'))),
      join(dir, 'd'),
    ),
    'reading from file: Is a directory',
  );
  // A failure below the path names that entry; a failure elsewhere (the file a store path is
  // kept in) names the path itself.
  const inner = join(dir, 'd', 'x');
  assert.equal(
    fileErrorText(
      thrown(() => lstatSync(inner)),
      join(dir, 'd'),
    ),
    `getting status of '${inner}': No such file or directory`,
  );
  assert.equal(
    fileErrorText(
      thrown(() => lstatSync(missing)),
      '/nix/store/x',
    ),
    "getting status of '/nix/store/x': No such file or directory",
  );
  assert.equal(fileErrorText(new Error('not a system error'), missing), undefined);
});

// Expected texts are nix-instantiate 2.8.0's stderr for the same expressions and files.
test('an error message is laid out as Nix 2.8 lays it out: indented lines, no trailing blanks', () => {
  assert.equal(
    evalError('throw "a  \\nb\\t\\n\\n  c  \\n\\n"').format({ showTrace: false }),
    'error: a\n       b\n\n         c\n',
  );
  assert.equal(layoutMessage('error', 'x\n\ny \n'), 'error: x\n\n       y');
  assert.equal(layoutMessage('warning', 'x\ny'), 'warning: x\n         y');
});

// (An imported file's errors end with the hint to --show-trace: the frame of the file.)
test("a source line's trailing blanks are dropped, and a file's unterminated last line is not shown", () => {
  const dir = mkdtempSync(join(tmpdir(), 'tix-errors-'));
  const file = join(dir, 'e.nix');
  writeFileSync(file, 'let\n  y = 1;   \n  x = builtins.foo;  \n\tz = 2;\t\nin x\n');
  assert.equal(
    evalError(`import ${file}`).format({ showTrace: false }),
    `error: attribute 'foo' missing\n\n       at ${file}:3:7:\n\n` +
      '            2|   y = 1;\n            3|   x = builtins.foo;\n             |       ^\n' +
      '            4| \tz = 2;\n       Did you mean floor?\n' +
      "(use '--show-trace' to show detailed location information)\n",
  );
  writeFileSync(file, 'let\n  x = 1;\nin x.y');
  assert.equal(
    evalError(`import ${file}`).format({ showTrace: false }),
    `error: value is an integer while a set was expected\n\n       at ${file}:3:4:\n` +
      "(use '--show-trace' to show detailed location information)\n",
  );
  writeFileSync(file, 'let\n  x = 1;\nin\nx.y\n');
  assert.match(
    evalError(`import ${file}`).format({ showTrace: false }),
    /4\| x\.y\n +\| \^\n\(use '--show-trace'[^\n]*\n$/,
  );
});
