import { type BuildResult, BuildStatus } from '../store/store.js';

/**
 * The error class of src/build. `code` is stable ('BUILD_FAILED', 'TIMED_OUT', 'HASH_MISMATCH',
 * 'DEPENDENCY_FAILED', 'BAD_DRV', 'SANDBOX', 'MISSING_INPUT', 'CYCLE', 'OUTPUT_REJECTED',
 * 'NO_SLOT', 'FETCH'); `exitCode` is what `tix build` exits with, computed as Nix 2.8's
 * Worker::exitStatus: 100 for a build failure, +1 timeout, +2 hash mismatch, +4 check mismatch.
 */
export class BuildError extends Error {
  readonly code: string;
  readonly exitCode: number;
  /** Per-derivation results when the error ends a multi-derivation build. */
  readonly results?: Map<string, BuildResult>;
  /** The requested derivations that failed, when the error ends a build of several. */
  readonly failed?: string[];
  /** Set by a caller that printed the failures already: the text reportError shows ('' = none). */
  format?: () => string;

  constructor(
    code: string,
    message: string,
    opts: { exitCode?: number; results?: Map<string, BuildResult>; failed?: string[] } = {},
  ) {
    super(message);
    this.name = 'BuildError';
    this.code = code;
    this.exitCode = opts.exitCode ?? 100;
    if (opts.results) this.results = opts.results;
    if (opts.failed) this.failed = opts.failed;
  }
}

/** Extra facts about a failed result that the BuildResult status alone does not carry. */
export interface FailureFlags {
  hashMismatch?: boolean;
  checkMismatch?: boolean;
}

/** Nix 2.8's Worker::exitStatus over a set of results: 1 if nothing specific, else 0x60|mask. */
export function exitCodeFor(results: Iterable<BuildResult & FailureFlags>): number {
  let permanent = false;
  let timedOut = false;
  let hashMismatch = false;
  let checkMismatch = false;
  let anyFailure = false;
  for (const r of results) {
    if (r.status === BuildStatus.PermanentFailure) permanent = true;
    if (r.status === BuildStatus.TimedOut) timedOut = true;
    if (r.hashMismatch) hashMismatch = true;
    if (r.checkMismatch) checkMismatch = true;
    if (!isSuccess(r)) anyFailure = true;
  }
  let mask = 0;
  if (permanent || timedOut || hashMismatch) mask |= 0x04;
  if (timedOut) mask |= 0x01;
  if (hashMismatch) mask |= 0x02;
  if (checkMismatch) mask |= 0x08;
  if (mask) return mask | 0x60;
  return anyFailure ? 1 : 0;
}

export function isSuccess(r: BuildResult): boolean {
  return (
    r.status === BuildStatus.Built ||
    r.status === BuildStatus.Substituted ||
    r.status === BuildStatus.AlreadyValid ||
    r.status === BuildStatus.ResolvesToAlreadyValid
  );
}

/** Nix 2.8's "build of 'a', 'b' failed": the paths listed in path order, as its set of them. */
export function buildOfFailed(paths: Iterable<string>): string {
  return `build of ${[...paths]
    .sort()
    .map((p) => `'${p}'`)
    .join(', ')} failed`;
}
