// EvalIO: the one interface through which the evaluator reaches files and the store (as Snix's
// EvalIO). Everything is synchronous because evaluation is. Paths are ordinary JS strings (UTF-8
// decoded); file contents are bytes. Implementations: io-memory.ts (computes store paths without a
// store, optionally writing into a directory) and the store-backed one in src/glue/.

export type FileType = 'regular' | 'directory' | 'symlink' | 'unknown';

/** Decides whether a path below a source tree is copied (`builtins.path`'s and filterSource's filter). */
export type PathFilter = (path: string, type: FileType) => boolean;

export interface AddToStoreOptions {
  /** Store path name (defaults to the base name of the path). */
  name: string;
  /** 'recursive' hashes the NAR serialisation; 'flat' hashes the file contents. */
  method: 'recursive' | 'flat';
  filter?: PathFilter;
  /** Expected content hash ("sha256:…" or SRI); when given, the copy must match it. */
  expectedHash?: string;
  /** Where the content was fetched from (a URL), as a hash mismatch names it; else the path. */
  origin?: string;
  /** Only compute the path; do not write (nix-instantiate --eval --readonly-mode). */
  readOnly?: boolean;
  /** Write the path again even when it is valid, replacing what is there (--repair). */
  repair?: boolean;
}

export interface FetchUrlOptions {
  name?: string;
  /** Expected hash of the result ("sha256:…", bare base-32/base-16 sha256, or SRI). */
  sha256?: string;
  /** Unpack a tarball (fetchTarball) instead of storing the file as is. */
  unpack: boolean;
  executable?: boolean;
}

export interface FetchGitOptions {
  url: string;
  name: string;
  ref?: string;
  rev?: string;
  submodules: boolean;
  shallow: boolean;
  allRefs: boolean;
}

export interface FetchHgOptions {
  url: string;
  name: string;
  /** A branch or tag (fetchMercurial's `rev` given as a name). */
  ref?: string;
  /** A 40-digit node id. */
  rev?: string;
}

export interface FetchHgResult {
  storePath: string;
  /** The branch; set for a clean fetch and for an unclean working tree. */
  ref?: string;
  /** The node id; absent for an unclean working tree. */
  rev?: string;
  revCount?: number;
  /** The path of the unclean working tree that was copied (Nix warns about it). */
  unclean?: string;
}

export interface FetchGitResult {
  /** A local repository with uncommitted changes was copied from its working tree (rev is all zeros). */
  dirty?: boolean;
  storePath: string;
  rev: string;
  shortRev: string;
  revCount: number;
  lastModified: number;
  lastModifiedDate: string;
  submodules: boolean;
  narHash: string;
}

export interface EvalIO {
  /** The logical store directory, e.g. "/nix/store". */
  readonly storeDir: string;
  pathExists(path: string): boolean;
  /** lstat-like: the type of the path itself, or undefined when it does not exist. */
  fileType(path: string): FileType | undefined;
  readFile(path: string): Uint8Array;
  /** Entries of a directory (without . and ..), with their types (symlinks not followed). */
  readDir(path: string): Map<string, FileType>;
  /** Resolves symlinks of an existing path (used for `import` of a symlink and for imports of a directory). */
  realPath(path: string): string;
  /** Copies a path into the store; returns the store path. */
  addToStore(path: string, opts: AddToStoreOptions): string;
  /**
   * Adds a text file (toFile, .drv files), given as bytes or as a string written as UTF-8;
   * `references` are store paths it refers to.
   */
  addTextToStore(
    name: string,
    text: Uint8Array | string,
    references: string[],
    opts?: { readOnly?: boolean; repair?: boolean },
  ): string;
  /** Whether a store path is valid (exists in the store); for builtins.storePath. */
  isValidPath(storePath: string): boolean;
  fetchUrl(url: string, opts: FetchUrlOptions): string;
  fetchGit(opts: FetchGitOptions): FetchGitResult;
  fetchMercurial(opts: FetchHgOptions): FetchHgResult;
  /**
   * Makes `link` a GC root for `storePath` and returns the link's path (nix-instantiate
   * --add-root); absent where the store keeps no roots.
   */
  addPermRoot?(storePath: string, link: string): string;
  /**
   * Called once when the evaluation is over (whether it succeeded or not): an EvalIO that defers
   * its writes makes them now, and releases what it holds.
   */
  finish?(): Promise<void>;
}
