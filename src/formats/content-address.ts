import { FormatError } from './errors.js';
import { type Hash, isHashAlgo, parseHashUnprefixed, printHash } from './hash.js';
import { makeFixedOutputPath, makeTextPath } from './store-path.js';

/** A content address as Nix 2.8 knows it: text (sha256 only), or fixed flat/recursive. */
export interface ContentAddress {
  method: 'text' | 'flat' | 'recursive';
  hash: Hash;
}

function bad(s: string, detail: string): FormatError {
  return new FormatError('BAD_CA', `cannot parse content address '${s}': ${detail}`);
}

/** Parses "text:sha256:<h>", "fixed:<algo>:<h>", "fixed:r:<algo>:<h>" (digest in any encoding by length). */
export function parseContentAddress(s: string): ContentAddress {
  const colon = s.indexOf(':');
  if (colon < 0) throw bad(s, "not of the form '<prefix>:<rest>'");
  const prefix = s.slice(0, colon);
  let rest = s.slice(colon + 1);
  let method: ContentAddress['method'];
  if (prefix === 'text') method = 'text';
  else if (prefix === 'fixed') {
    method = 'flat';
    if (rest.startsWith('r:')) {
      method = 'recursive';
      rest = rest.slice(2);
    }
  } else throw bad(s, `unknown prefix '${prefix}', expected 'text' or 'fixed'`);
  const c2 = rest.indexOf(':');
  if (c2 < 0) throw bad(s, "the hash is not of the form '<algo>:<hash>'");
  const algo = rest.slice(0, c2);
  if (!isHashAlgo(algo)) throw bad(s, `unknown hash algorithm '${algo}'`);
  if (method === 'text' && algo !== 'sha256')
    throw bad(s, `text content addresses use sha256, not '${algo}'`);
  try {
    return { method, hash: parseHashUnprefixed(rest.slice(c2 + 1), algo) };
  } catch (e) {
    throw bad(s, (e as Error).message);
  }
}

/** Renders as Nix does, digest in nix32: "text:sha256:…", "fixed:sha1:…", "fixed:r:sha256:…". */
export function printContentAddress(ca: ContentAddress): string {
  const h = printHash(ca.hash, 'nix32', { prefix: true });
  if (ca.method === 'text') return `text:${h}`;
  return ca.method === 'recursive' ? `fixed:r:${h}` : `fixed:${h}`;
}

/**
 * The store path a content address determines. `references` are full paths; a reference to the
 * object itself must be passed as `selfReference` (text objects may not refer to themselves).
 */
export function makeContentAddressedPath(
  name: string,
  ca: ContentAddress,
  opts: { references?: Iterable<string>; selfReference?: boolean; storeDir: string },
): string {
  if (ca.method === 'text') {
    if (opts.selfReference) {
      throw new FormatError(
        'BAD_CA',
        `cannot make text path '${name}': text objects cannot refer to themselves`,
      );
    }
    return makeTextPath(name, ca.hash, opts.references ?? [], opts.storeDir);
  }
  return makeFixedOutputPath(name, { method: ca.method, hash: ca.hash }, opts);
}
