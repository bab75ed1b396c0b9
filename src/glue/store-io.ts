// The store-backed EvalIO: what `tix build`, `tix instantiate` and `tix eval` use when they have
// a local store. Paths the evaluator copies (path literals, builtins.path, filterSource, toFile,
// .drv files) are added to the store for real; reading a store path reads its physical location
// (a chroot-style store keeps /nix/store/... under its root). Read-only evaluation (`tix eval`)
// only computes paths, as nix-instantiate --eval does. Fetchers come from MemoryEvalIO and land
// in the store through addToStore.
import * as fs from 'node:fs';
import { hashMismatchError } from '../eval/errors.js';
import type { AddToStoreOptions, EvalIO, FileType } from '../eval/io.js';
import { MemoryEvalIO } from '../eval/io-memory.js';
import { parseContentAddress } from '../formats/content-address.js';
import { hashEquals, parseHash } from '../formats/hash.js';
import type { LocalStore } from '../store/local.js';
import { openLocalStore, parseStoreUri } from '../store/open.js';
import { addPermRoot } from '../store/roots.js';

export interface StoreEvalIOOptions {
  /** A local store URI ("local?root=…"); the store is opened in the evaluating thread. */
  storeUri: string;
}

export class StoreEvalIO extends MemoryEvalIO implements EvalIO {
  readonly #store: LocalStore;

  constructor(store: LocalStore) {
    super({ storeDir: store.storeDir });
    this.#store = store;
  }

  /** The physical location of a path below a valid store path, or undefined. */
  #inStore(path: string): string | undefined {
    const dir = `${this.storeDir}/`;
    if (!path.startsWith(dir)) return undefined;
    const rel = path.slice(dir.length);
    const slash = rel.indexOf('/');
    const top = dir + (slash < 0 ? rel : rel.slice(0, slash));
    if (!this.#store.isValidPathSync(top)) return undefined;
    return this.#store.toRealPath(top) + (slash < 0 ? '' : rel.slice(slash));
  }

  override pathExists(path: string): boolean {
    const real = this.#inStore(path);
    if (real === undefined) return super.pathExists(path);
    try {
      fs.lstatSync(real);
      return true;
    } catch {
      return false;
    }
  }

  override fileType(path: string): FileType | undefined {
    const real = this.#inStore(path);
    return real === undefined ? super.fileType(path) : super.fileType(real);
  }

  override readFile(path: string): Uint8Array {
    const real = this.#inStore(path);
    return real === undefined ? super.readFile(path) : fs.readFileSync(real);
  }

  override readDir(path: string): Map<string, FileType> {
    const real = this.#inStore(path);
    return super.readDir(real ?? path);
  }

  override realPath(path: string): string {
    const real = this.#inStore(path);
    if (real === undefined) return super.realPath(path);
    const resolved = fs.realpathSync(real);
    const physical = this.#store.realStoreDir;
    return resolved.startsWith(`${physical}/`) ? this.storeDir + resolved.slice(physical.length) : resolved;
  }

  override isValidPath(storePath: string): boolean {
    return this.#store.isValidPathSync(storePath) || super.isValidPath(storePath);
  }

  override addToStore(path: string, opts: AddToStoreOptions): string {
    if (opts.readOnly) return super.addToStore(path, opts);
    const src = this.#inStore(path) ?? path;
    const info = this.#store.addPathToStoreSync(src, {
      name: opts.name,
      method: opts.method,
      hashAlgo: 'sha256',
      filter: opts.filter,
      repair: opts.repair,
    });
    if (opts.expectedHash !== undefined && info.ca) {
      const expected = parseHash(opts.expectedHash, { algo: 'sha256' });
      const got = parseContentAddress(info.ca).hash;
      if (!hashEquals(expected, got)) throw hashMismatchError(opts.origin ?? path, expected, got);
    }
    return info.path;
  }

  override addTextToStore(
    name: string,
    text: Uint8Array | string,
    references: string[],
    opts: { readOnly?: boolean; repair?: boolean } = {},
  ): string {
    if (opts.readOnly) return super.addTextToStore(name, text, references, opts);
    return this.#store.addTextToStoreSync(name, text, references, { repair: opts.repair });
  }

  addPermRoot(storePath: string, link: string): string {
    this.#store.addTempRootSync(storePath);
    return addPermRoot(this.#store.rootsContext(), storePath, link);
  }
}

/** Entry point for the evaluation worker (src/eval/worker.ts loads modules by URL). */
export function createEvalIO(options: StoreEvalIOOptions): EvalIO {
  return new StoreEvalIO(openLocalStore(parseStoreUri(options.storeUri)));
}
