/**
 * Errors of a command that are not about how it was called (UsageError) and not raised by a lower
 * layer: 'UNSUPPORTED' (the store cannot do this), 'BUILD_FAILED' (exit 100 like nix-build),
 * 'NOT_FOUND' (no such file, log, …), 'BAD_INPUT' (malformed data given to the command),
 * 'VERIFY_FAILED' (store verification found errors; exit 1), 'SYSTEM' (a failed system call).
 */
export class CliError extends Error {
  readonly code: string;
  readonly exitCode?: number;

  constructor(code: string, message: string, opts: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.code = code;
    this.name = 'CliError';
    if (opts.exitCode !== undefined) this.exitCode = opts.exitCode;
  }
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EEXIST: 'File exists',
  ELOOP: 'Too many levels of symbolic links',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
};

/** "<action>: <strerror>" for a failed system call, as Nix's SysError words it. */
export function sysError(action: string, e: unknown): CliError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === undefined) throw e;
  return new CliError('SYSTEM', `${action}: ${ERRNO_TEXT[code] ?? code}`, { cause: e });
}
