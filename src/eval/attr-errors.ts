// Errors about attributes: "attribute 'x' missing" with Nix's "Did you mean …?" suggestions, and
// the "while evaluating the attribute" trace frame.
import { NixEvalError } from './errors.js';
import type { Pos } from './source.js';
import { printAttrName } from './text/strings.js';
import { type Attrs, setPos } from './value.js';

/** The file name of the `derivation` function's text (Nix 2.8's, which tix's wrapper keeps). */
export const DERIVATION_NIX_PATH = '//builtin/derivation.nix';

/**
 * Adds Nix's "while evaluating the attribute" frame to an evaluation error. An attribute found
 * being evaluated already is infinite recursion at the attribute's definition, as in Nix. A
 * selection (the default) adds no frame for an attribute without a position or one defined by
 * the `derivation` function (2.8's ExprSelect); forcing a value deeply (`always`) adds it anyway.
 */
export function addAttrTrace(err: unknown, path: string, pos: Pos | undefined, always = false): unknown {
  if (!(err instanceof NixEvalError)) return err;
  if (err.code === 'INFINITE_RECURSION' && err.pos === undefined) err.pos = pos;
  const frame = always || (pos !== undefined && pos.src.path !== DERIVATION_NIX_PATH);
  if (frame && err.trace.length < 200) err.addTrace(pos, `while evaluating the attribute '${path}'`);
  return err;
}

/**
 * A builtin's required attribute is missing (Nix 2.8's getAttr helper of the primops): reported
 * where the set was written, with the call as a frame, or at the call for a set without a position.
 */
export function missingAttrFor(name: string, builtin: string, set: Attrs, pos?: Pos): NixEvalError {
  // The name as Nix 2.8 prints a symbol here: quoted unless it is an identifier.
  const msg = `attribute '${printAttrName(name)}' missing for call to '${builtin}'`;
  const at = setPos(set);
  if (at === undefined) return new NixEvalError('MISSING_ATTR', msg, pos);
  return new NixEvalError('MISSING_ATTR', msg, at).addTrace(pos, `while invoking '${builtin}'`);
}

export function missingAttr(name: string, attrs: Attrs, pos?: Pos): NixEvalError {
  return withSuggestions(
    new NixEvalError('MISSING_ATTR', `attribute '${name}' missing`, pos),
    attrs.m.keys(),
    name,
  );
}

/**
 * Adds Nix 2.8's "Did you mean …?" to an error about `wanted`: the names within edit distance 2,
 * closest first (then in byte order), at most 5.
 */
export function withSuggestions(err: NixEvalError, names: Iterable<string>, wanted: string): NixEvalError {
  const near = [...names]
    .map((n) => ({ n, d: levenshtein(n, wanted) }))
    .filter((x) => x.d <= 2)
    .sort((a, b) => a.d - b.d || (a.n < b.n ? -1 : a.n > b.n ? 1 : 0))
    .slice(0, 5)
    .map((x) => x.n);
  if (near.length > 0)
    err.hint = `Did you mean ${near.length === 1 ? near[0] : `one of ${near.slice(0, -1).join(', ')} or ${near[near.length - 1]}`}?`;
  return err;
}

/** Edit distance, exact up to 2; any larger distance is given as 3. */
function levenshtein(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const d: number[] = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return Math.min(d[b.length]!, 3);
}
