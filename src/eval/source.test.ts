import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Source } from './source.js';

test('positions count a lone CR as a line end, excerpts only LF (as Nix 2.8)', () => {
  const s = new Source('/f.nix', '# foo\rinvalid\n# bar\r\nx');
  // `invalid` is on line 2 for positions (2.8's lexer), yet the excerpt's line 2 is `# bar`.
  assert.deepEqual(s.lineCol(6), { line: 2, col: 1 });
  assert.equal(s.line(2), '# bar');
  // CR LF is one line end.
  assert.deepEqual(s.lineCol(21), { line: 4, col: 1 });
  assert.equal(s.line(3), 'x');
  const plain = new Source(undefined, 'a\nbc');
  assert.deepEqual(plain.lineCol(3), { line: 2, col: 2 });
});
