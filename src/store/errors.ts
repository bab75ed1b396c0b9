/**
 * The one error class of src/store. `code` is stable and machine-checkable:
 * - 'BAD_PATH'       a string that is not a well-formed store path
 * - 'NOT_IN_STORE'   a path outside this store's store dir
 * - 'INVALID_PATH'   a well-formed store path that is not valid (Nix's InvalidPath)
 * - 'HASH_MISMATCH'  NAR hash/size or content address does not match what was claimed
 * - 'BAD_NAR'        a NAR that does not parse (the FormatError is the `cause`)
 * - 'BAD_INFO'       inconsistent path info (missing references, bad hash syntax, bad derivation)
 * - 'LOCKED'         a lock could not be taken
 * - 'DB'             the SQLite database is unusable or has an unknown schema
 * - 'GC'             garbage collection refused (e.g. deleting a live path)
 * - 'BAD_URI'        a store URI that cannot be opened
 * - 'UNSUPPORTED'    a file type or operation this store cannot handle
 * - 'SIGNATURE'      a path lacks a valid signature by a trusted key
 * - 'INTERRUPTED'    the client went away while the server was working for it
 */
export class StoreError extends Error {
  readonly code: string;

  constructor(code: string, message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.code = code;
    this.name = 'StoreError';
  }
}

export function isStoreError(e: unknown, code?: string): e is StoreError {
  return e instanceof StoreError && (code === undefined || e.code === code);
}
