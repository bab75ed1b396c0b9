// File errors worded as Nix 2.8 words them (observed with nix-instantiate 2.8.0 on missing
// paths, directories read as files, and unreadable entries below a copied tree).
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileErrorText } from './errors.js';

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
