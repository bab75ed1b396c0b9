// Content-addressed additions from this machine: a file or tree copied from outside the store
// (`nix-store --add`, `--add-fixed`, `builtins.path`) and text files (`builtins.toFile`, `.drv`).
// The copy is made first, then hashed — so what is hashed is exactly what is installed.
import { chmodSync, closeSync, constants, fsyncSync, futimesSync, openSync, writeSync } from 'node:fs';
import { type Hash, type HashAlgo, HashSink } from '../formats/hash.js';
import { copyFlatFileSync, copyTreeSync } from './copy-tree.js';
import { canonicaliseTreeSync, removeTreeSync, STORE_MTIME } from './fs-util.js';
import { installSync, tempEntryPath } from './install.js';
import type { LocalStore } from './local.js';
import { dumpPathSync, type FileType, fileHashSync } from './nar-dump-disk.js';
import type { ValidPathInfo } from './store.js';
import {
  assertPathName,
  assertStorePath,
  contentAddressedInfo,
  fixedPathOf,
  textStorePath,
} from './store-paths.js';

export interface AddPathOptions {
  name: string;
  method: 'flat' | 'recursive';
  /** Default sha256. */
  hashAlgo?: HashAlgo;
  /** Applied to every entry below the root (full source path, entry type); false leaves it out. */
  filter?: (path: string, type: FileType) => boolean;
  /** Only for recursive sha256. */
  references?: string[];
  /** Install the copy even when the path is valid, replacing what is there (`--repair`). */
  repair?: boolean;
}

/** narHash and narSize of a tree, plus its NAR hash under `extra` when that is not sha256. */
function hashNar(path: string, extra?: HashAlgo): { narHash: Hash; narSize: number; extraHash?: Hash } {
  const nar = new HashSink('sha256');
  const other = extra && extra !== 'sha256' ? new HashSink(extra) : undefined;
  for (const chunk of dumpPathSync(path)) {
    nar.update(chunk);
    other?.update(chunk);
  }
  const narHash = nar.finish();
  return { narHash, narSize: nar.bytesSeen, extraHash: other ? other.finish() : narHash };
}

export function addPathSync(store: LocalStore, srcPath: string, opts: AddPathOptions): ValidPathInfo {
  assertPathName(opts.name);
  const algo = opts.hashAlgo ?? 'sha256';
  const references = opts.references ?? [];
  for (const r of references) assertStorePath(r, store.storeDir);
  const temp = tempEntryPath(store, 'add');
  try {
    if (opts.method === 'flat') copyFlatFileSync(srcPath, temp, { fsync: store.fsync });
    else copyTreeSync(srcPath, temp, { filter: opts.filter, fsync: store.fsync });
    canonicaliseTreeSync(temp);
    const { narHash, narSize, extraHash } = hashNar(temp, opts.method === 'recursive' ? algo : undefined);
    const caHash = opts.method === 'flat' ? fileHashSync(temp, algo) : extraHash!;
    const path = fixedPathOf({ ...opts, references }, caHash, store.storeDir);
    const info = contentAddressedInfo(path, { hash: narHash, size: narSize }, references, {
      method: opts.method,
      hash: caHash,
    });
    return installSync(store, temp, info, { repair: opts.repair });
  } finally {
    removeTreeSync(temp);
  }
}

export function addTextSync(
  store: LocalStore,
  name: string,
  text: Uint8Array | string,
  references: string[],
  opts: { repair?: boolean } = {},
): string {
  const { path, bytes, hash } = textStorePath(name, text, references, store.storeDir);
  store.addTempRootSync(path);
  if (!opts.repair && store.db.isValid(path)) return path;
  const temp = tempEntryPath(store, name);
  try {
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o444);
    try {
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
      if (store.fsync) fsyncSync(fd);
      futimesSync(fd, STORE_MTIME, STORE_MTIME);
    } finally {
      closeSync(fd);
    }
    chmodSync(temp, 0o444);
    const { narHash, narSize } = hashNar(temp);
    const info = contentAddressedInfo(path, { hash: narHash, size: narSize }, references, {
      method: 'text',
      hash,
    });
    installSync(store, temp, info, opts);
    return path;
  } finally {
    removeTreeSync(temp);
  }
}
