// Copying a file-system tree from outside into a temporary store entry (for addPathToStore), with
// Nix's path filter applied to everything below the root. Names are copied as raw bytes.
import {
  closeSync,
  constants,
  copyFileSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { StoreError } from './errors.js';
import { childPath, fsyncDirSync } from './fs-util.js';
import { fileType, type PathFilter } from './nar-dump-disk.js';

function fsyncFile(path: Buffer): void {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function copyNode(src: Buffer, dst: Buffer, opts: { filter?: PathFilter; fsync: boolean }): void {
  const st = lstatSync(src);
  if (st.isFile()) {
    copyFileSync(src, dst, constants.COPYFILE_EXCL);
    if (opts.fsync) fsyncFile(dst);
  } else if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(src, { encoding: 'buffer' }), dst);
  } else if (st.isDirectory()) {
    mkdirSync(dst, 0o755);
    for (const name of readdirSync(src, { encoding: 'buffer' })) {
      const from = childPath(src, name);
      if (opts.filter && !opts.filter(from.toString(), fileType(lstatSync(from)))) continue;
      copyNode(from, childPath(dst, name), opts);
    }
    if (opts.fsync) fsyncDirSync(dst.toString());
  } else {
    throw new StoreError('UNSUPPORTED', `cannot add path '${src.toString()}': file has an unsupported type`);
  }
}

/** Copies `src` (a symlink at the root stays a symlink) to `dst`, which must not exist. */
export function copyTreeSync(src: string, dst: string, opts: { filter?: PathFilter; fsync: boolean }): void {
  copyNode(Buffer.from(src), Buffer.from(dst), opts);
}

/** Copies the contents of the regular file `src` (following symlinks) to `dst`. */
export function copyFlatFileSync(src: string, dst: string, opts: { fsync: boolean }): void {
  if (!statSync(src).isFile()) {
    throw new StoreError(
      'UNSUPPORTED',
      `cannot add path '${src}' with flat hashing: it is not a regular file`,
    );
  }
  copyFileSync(src, dst, constants.COPYFILE_EXCL);
  if (opts.fsync) fsyncFile(Buffer.from(dst));
}
