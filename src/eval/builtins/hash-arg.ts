// A hash given to a builtin (outputHash, builtins.path's sha256), read as Nix 2.8's
// newHashAllowEmpty reads it: an empty one is all zeros, with a warning, so that the build or
// the copy fails with a mismatch that shows the right hash.
import { FormatError } from '../../formats/errors.js';
import { HASH_SIZE, type Hash, isHashAlgo, parseHash, printHash } from '../../formats/hash.js';
import { NixEvalError } from '../errors.js';
import type { Pos } from '../source.js';
import type { EvalState } from '../state.js';

/**
 * `text` as a hash of algorithm `algo` (any other name than md5, sha1, sha256 or sha512 counts as
 * none, as 2.8's parseHashTypeOpt); a malformed one fails with the parser's words.
 */
export function hashAllowEmpty(state: EvalState, text: string, algo: string, pos?: Pos): Hash {
  const a = isHashAlgo(algo) ? algo : undefined;
  if (text === '') {
    if (a === undefined) throw new NixEvalError('DERIVATION', 'empty hash requires explicit hash type', pos);
    const zero: Hash = { algo: a, digest: new Uint8Array(HASH_SIZE[a]) };
    state.trace(`warning: found empty hash, assuming '${printHash(zero, 'sri')}'`);
    return zero;
  }
  try {
    return parseHash(text, { algo: a });
  } catch (e) {
    if (e instanceof FormatError) throw new NixEvalError('BAD_HASH', e.message, pos);
    throw e;
  }
}
