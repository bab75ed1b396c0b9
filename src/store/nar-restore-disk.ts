// Restoring a NAR onto disk: a NarSink that creates the tree at `root` (which must not exist),
// writing files with their final permissions (0444/0555) and mtime 1; `finish()` then makes the
// directories canonical (0555, mtime 1) and, with `fsync`, flushes everything to disk.
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fsyncSync,
  futimesSync,
  lutimesSync,
  mkdirSync,
  openSync,
  symlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { NarFileWriter, NarSink } from '../formats/nar-types.js';
import { fsyncDirSync, STORE_MTIME } from './fs-util.js';

export interface DiskNarSink extends NarSink {
  /** Canonicalises the directories (children first) and flushes them when `fsync` is set. */
  finish(): void;
  /** Closes files left open by a failed parse (the caller removes the tree). */
  abort(): void;
}

export function diskNarSink(root: string, opts: { fsync?: boolean } = {}): DiskNarSink {
  const dirs: string[] = [];
  const open = new Set<number>();
  const at = (rel: string) => (rel === '' ? root : join(root, rel));
  return {
    directory(rel) {
      const p = at(rel);
      mkdirSync(p, 0o755);
      dirs.push(p);
    },
    symlink(rel, target) {
      const p = at(rel);
      symlinkSync(target, p);
      lutimesSync(p, STORE_MTIME, STORE_MTIME);
    },
    regular(rel, executable): NarFileWriter {
      const p = at(rel);
      const fd = openSync(p, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      open.add(fd);
      return {
        write(chunk) {
          let off = 0;
          while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
        },
        close() {
          if (!open.delete(fd)) return;
          try {
            if (opts.fsync) fsyncSync(fd);
            fchmodSync(fd, executable ? 0o555 : 0o444);
            futimesSync(fd, STORE_MTIME, STORE_MTIME);
          } finally {
            closeSync(fd);
          }
        },
      };
    },
    abort() {
      for (const fd of open) closeSync(fd);
      open.clear();
    },
    finish() {
      for (let i = dirs.length - 1; i >= 0; i--) {
        const d = dirs[i]!;
        if (opts.fsync) fsyncDirSync(d);
        chmodSync(d, 0o555);
        utimesSync(d, STORE_MTIME, STORE_MTIME);
      }
    },
  };
}
