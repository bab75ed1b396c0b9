// Turning command-line arguments into store paths, and reading what commands need from any Store:
// closures and derivations. Arguments may be store paths, paths below one, or symlinks leading into
// the store (like `./result`), as Nix's followLinksToStorePath accepts.
import { lstatSync, readlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Derivation, derivationName, parseDerivation } from '../formats/derivation.js';
import { narTreeSink, parseNar } from '../formats/nar.js';
import { parseStorePath, printStorePath } from '../formats/store-path.js';
import { StoreError } from '../store/errors.js';
import type { Store } from '../store/store.js';

function isInStoreDir(path: string, storeDir: string): boolean {
  return path.startsWith(`${storeDir}/`) && path.length > storeDir.length + 1;
}

/** The store path an argument denotes: follows symlinks until inside the store dir, drops sub-paths. */
/** The logical and (for chroot-style local stores) physical store directories of a store. */
export function storeDirsOf(store: Store): { storeDir: string; realStoreDir?: string } {
  const real = (store as { realStoreDir?: unknown }).realStoreDir;
  return { storeDir: store.storeDir, realStoreDir: typeof real === 'string' ? real : undefined };
}

export function storePathArg(
  arg: string,
  opts: { cwd: string; storeDir: string; realStoreDir?: string },
): string {
  let path = resolve(opts.cwd, arg);
  const real = opts.realStoreDir;
  const toLogical = (p: string) =>
    real && real !== opts.storeDir && (p === real || p.startsWith(`${real}/`))
      ? opts.storeDir + p.slice(real.length)
      : p;
  path = toLogical(path);
  for (let hops = 0; !isInStoreDir(path, opts.storeDir) && hops < 40; hops++) {
    let target: string;
    try {
      if (!lstatSync(path).isSymbolicLink()) break;
      target = readlinkSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') break;
      throw e;
    }
    path = toLogical(resolve(dirname(path), target));
  }
  if (!isInStoreDir(path, opts.storeDir)) {
    throw new StoreError('NOT_IN_STORE', `path '${resolve(opts.cwd, arg)}' is not in the Nix store`);
  }
  const base = path.slice(opts.storeDir.length + 1).split('/')[0]!;
  const full = `${opts.storeDir}/${base}`;
  return printStorePath(parseStorePath(full, opts.storeDir), opts.storeDir);
}

/** The info of a valid path, or StoreError('INVALID_PATH') in Nix's words. */
export async function requirePathInfo(store: Store, path: string) {
  const info = await store.queryPathInfo(path);
  if (!info) throw new StoreError('INVALID_PATH', `path '${path}' is not valid`);
  return info;
}

export { computeFSClosure, queryClosure } from '../store/closure.js';

/** The bytes of a valid store path that is a regular file (read through its NAR). */
export async function readStoreFile(store: Store, path: string): Promise<Uint8Array> {
  await requirePathInfo(store, path);
  const sink = narTreeSink();
  await parseNar(store.narFromPath(path), sink);
  const root = sink.root();
  if (root.type !== 'regular') throw new StoreError('UNSUPPORTED', `path '${path}' is not a regular file`);
  return typeof root.contents === 'string' ? new TextEncoder().encode(root.contents) : root.contents;
}

/** Parses a valid `.drv` in the store. */
export async function readStoreDerivation(store: Store, drvPath: string): Promise<Derivation> {
  const local = store as Store & { readDerivation?: (p: string) => Derivation };
  if (typeof local.readDerivation === 'function') return local.readDerivation(drvPath);
  const text = await readStoreFile(store, drvPath);
  return parseDerivation(text, { name: derivationName(drvPath), path: drvPath, storeDir: store.storeDir });
}
