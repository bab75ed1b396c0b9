/**
 * The one error class of src/formats. `code` is stable and machine-checkable:
 * 'BAD_NAR', 'BAD_DRV', 'BAD_HASH', 'BAD_STORE_PATH', 'BAD_MACHINES', 'BAD_NARINFO',
 * 'BAD_WIRE', 'BAD_CA', 'BAD_DRV_JSON', 'BAD_KEY', 'BAD_NIX32'.
 */
export class FormatError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = 'FormatError';
  }
}

export function isFormatError(e: unknown, code?: string): e is FormatError {
  return e instanceof FormatError && (code === undefined || e.code === code);
}
