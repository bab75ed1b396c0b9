// "Did you mean …?" as Nix 2.8 suggests (expected texts are nix-instantiate 2.8.0's): names within
// edit distance 2, closest first then in byte order, at most 5; for a missing attribute, an
// unexpected function argument and a missing attribute of a selection path (-A).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evalError } from './test-util.js';

test('suggestions are the closest names, at most five', () => {
  assert.equal(
    evalError('{ abc = 1; abd = 1; ab = 1; a = 1; b = 1; c = 1; ac1 = 1; }.ac').hint,
    'Did you mean one of a, ab, abc, ac1 or c?',
  );
  assert.equal(evalError('{ abcdef = 1; }.abc').hint, undefined);
  assert.equal(evalError('builtins.floo').hint, 'Did you mean floor?');
});

test('an unexpected argument suggests the formals', () => {
  const e = evalError(
    'let f = { abc, abd, xyz, ab }: 1; in f { abc = 1; abd = 1; xyz = 1; ab = 1; ac = 2; }',
  );
  assert.match(e.message, /called with unexpected argument 'ac'$/);
  assert.equal(e.hint, 'Did you mean one of ab, abc or abd?');
  assert.equal(evalError('let f = { a }: a; in f { a = 1; b = 2; }').hint, 'Did you mean a?');
});

test('infinite recursion is reported where Nix 2.8 reports it', () => {
  const at = (expr: string) => {
    const e = evalError(expr);
    assert.equal(e.message, 'infinite recursion encountered', expr);
    return e.pos === undefined ? undefined : e.pos.src.lineCol(e.pos.off).col;
  };
  // At the variable that is being evaluated already, else at the attribute's definition.
  assert.equal(at('let x = x; in x'), 9);
  assert.equal(at('let a = { b = a.b; }; in a.b'), 11);
  assert.equal(at('let s = { inherit (s) a; }; in s.a'), 22);
  assert.equal(at('rec { a = b; b = a; }.a'), 11);
});
