// What local building needs from a store: the LocalStore contract of src/store (store-api.md),
// narrowed to the members used here, so that builds can run against any store that provides them.
import type { Derivation } from '../formats/derivation.js';
import type { PathLock } from '../store/locks.js';
import type { Store, ValidPathInfo } from '../store/store.js';

export interface LocalBuildStore extends Store {
  /** Physical directory holding the store objects (may differ from storeDir, chroot-style). */
  readonly realStoreDir: string;
  /** fsync outputs before registering them. */
  readonly fsync?: boolean;
  toRealPath(storePath: string): string;
  queryPathInfoSync(path: string): ValidPathInfo | undefined;
  isValidPathSync(path: string): boolean;
  /** One transaction; the files must already be in place. */
  registerValidPaths(infos: ValidPathInfo[]): void;
  lockPaths(paths: string[], opts?: { wait?: boolean }): Promise<PathLock | undefined>;
  readDerivation(drvPath: string): Derivation;
  buildLogPath(drvPath: string): string;
  /** Automatic garbage collection check (`min-free`), run before each build starts. */
  autoGc?(): Promise<void>;
}
