// Validation of store path arguments, turning format errors into StoreErrors.

import { join } from 'node:path';
import { type ContentAddress, printContentAddress } from '../formats/content-address.js';
import { FormatError } from '../formats/errors.js';
import { type Hash, hashBytes, parseHash, printHash } from '../formats/hash.js';
import {
  makeFixedOutputPath,
  makeTextPath,
  parseStorePathBase,
  validateStorePathName,
} from '../formats/store-path.js';
import { StoreError } from './errors.js';
import type { ValidPathInfo } from './store.js';

/** `<32 nix32 chars>-<name>` from lastIndex to the end; the rules of parseStorePathBase in one test. */
const STORE_PATH_BASE = /[0-9a-df-np-sv-z]{32}-[0-9a-zA-Z+\-._?=]{1,211}$/y;

/** Throws unless `path` is exactly `<storeDir>/<hash>-<name>`. */
export function assertStorePath(path: string, storeDir: string): void {
  if (typeof path === 'string' && path.startsWith(storeDir) && path[storeDir.length] === '/') {
    STORE_PATH_BASE.lastIndex = storeDir.length + 1;
    if (STORE_PATH_BASE.test(path)) return;
  }
  if (typeof path !== 'string' || !path.startsWith(`${storeDir}/`)) {
    throw new StoreError('NOT_IN_STORE', `path '${path}' is not in the Nix store`);
  }
  const base = path.slice(storeDir.length + 1);
  try {
    if (base.includes('/'))
      throw new FormatError('BAD_STORE_PATH', `'${path}' is not a store path but a path inside one`);
    parseStorePathBase(base);
  } catch (e) {
    if (e instanceof FormatError)
      throw new StoreError('BAD_PATH', `invalid store path '${path}': ${e.message}`, { cause: e });
    throw e;
  }
}

export function assertPathName(name: string): void {
  try {
    validateStorePathName(name);
  } catch (e) {
    if (e instanceof FormatError) throw new StoreError('BAD_PATH', e.message, { cause: e });
    throw e;
  }
}

/** Parses a narHash in any of Nix's encodings; must be SHA-256. */
export function parseNarHash(text: string, path: string): Hash {
  let h: Hash;
  try {
    h = parseHash(text, text.includes(':') || text.includes('-') ? {} : { algo: 'sha256' });
  } catch (e) {
    throw new StoreError(
      'BAD_INFO',
      `invalid NAR hash '${text}' for path '${path}': ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (h.algo !== 'sha256')
    throw new StoreError('BAD_INFO', `invalid NAR hash '${text}' for path '${path}': not SHA-256`);
  return h;
}

/** "sha256:<base16>", the form the database stores. */
export function canonicalNarHash(text: string, path: string): string {
  return printHash(parseNarHash(text, path), 'base16', { prefix: true });
}

/** The name part of a valid store path. */
export function storePathName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 34);
}

/**
 * The store path of a text (`builtins.toFile`, a .drv) with these references, after checking the
 * name and the references; with the text's bytes and their sha256 (its content address).
 */
export function textStorePath(
  name: string,
  text: Uint8Array | string,
  references: string[],
  storeDir: string,
): { path: string; bytes: Uint8Array; hash: Hash } {
  assertPathName(name);
  for (const r of references) assertStorePath(r, storeDir);
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const hash = hashBytes('sha256', bytes);
  try {
    return { path: makeTextPath(name, hash, references, storeDir), bytes, hash };
  } catch (e) {
    formatToStore(e);
  }
}

/** The store path of a fixed-output (flat or recursive) object; a bad name or reference is BAD_INFO. */
export function fixedPathOf(
  opts: { name: string; method: 'flat' | 'recursive'; references: string[] },
  caHash: Hash,
  storeDir: string,
): string {
  try {
    return makeFixedOutputPath(
      opts.name,
      { method: opts.method, hash: caHash },
      { references: opts.references, storeDir },
    );
  } catch (e) {
    formatToStore(e);
  }
}

/**
 * The info of a content-addressed path made from its contents (no signatures; registration sets
 * the time unless `extra` gives one).
 */
export function contentAddressedInfo(
  path: string,
  nar: { hash: Hash; size: number },
  references: string[],
  ca: ContentAddress,
  extra: Partial<ValidPathInfo> = {},
): ValidPathInfo {
  return {
    path,
    narHash: printHash(nar.hash, 'base16', { prefix: true }),
    narSize: nar.size,
    references,
    registrationTime: 0,
    ultimate: false,
    sigs: [],
    ca: printContentAddress(ca),
    ...extra,
  };
}

/** Rethrows a format error (a bad name, hash or path) as the store's BAD_INFO error. */
export function formatToStore(e: unknown): never {
  if (e instanceof FormatError) throw new StoreError('BAD_INFO', e.message, { cause: e });
  throw e;
}

/**
 * An object that does not match what its info claims, in Nix 2.8's words: its NAR hash or size
 * ("hash mismatch importing path …", "size mismatch …") or its content address ("ca hash …").
 */
export function importMismatch(
  what: 'hash' | 'size' | 'ca hash',
  path: string,
  specified: Hash | number,
  got: Hash | number,
): StoreError {
  const show = (x: Hash | number) =>
    typeof x === 'number' ? String(x) : printHash(x, 'nix32', { prefix: true });
  return new StoreError(
    'HASH_MISMATCH',
    `${what} mismatch importing path '${path}';\n  specified: ${show(specified)}\n  got:       ${show(got)}`,
  );
}

/** A reference that is not valid where a path is registered (Nix 2.8's InvalidPath). */
export function invalidReference(reference: string): StoreError {
  return new StoreError('BAD_INFO', `path '${reference}' is not valid`);
}

/** A derivation's build log file under a log directory, laid out as Nix's: drvs/XX/REST of its base name. */
export function buildLogFile(logDir: string, storeDir: string, drvPath: string): string {
  const base = drvPath.slice(storeDir.length + 1);
  return join(logDir, 'drvs', base.slice(0, 2), base.slice(2));
}
