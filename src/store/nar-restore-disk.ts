// Restoring a NAR onto disk: a NarSink that creates the tree at `root` (which must not exist),
// writing files with their final permissions (0444/0555) and mtime 1; `finish()` then makes the
// directories canonical (0555, mtime 1) and, with `fsync`, flushes everything to disk.
//
// Large chunks are written on the thread pool (positioned writes, a few in flight per file), so
// that copying them into the page cache overlaps with reading and hashing what follows: for a
// 256 MiB upload to a builder that copy alone is about half a core-second (bench/README.md). A
// file's `close()` waits for its writes and reports the first failure (a full disk, say).
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
  write as writeAsync,
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

/** Chunks at least this large are written on the thread pool. */
const ASYNC_WRITE_MIN = 256 * 1024;
/** Writes in flight per file before `write` waits for one. */
const MAX_IN_FLIGHT = 4;

/** Writes all of `chunk` at `pos` on the thread pool. */
function writeAllAt(fd: number, chunk: Uint8Array, pos: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (off: number) =>
      writeAsync(fd, chunk, off, chunk.length - off, pos + off, (err, n) => {
        if (err) reject(err);
        else if (off + n < chunk.length) step(off + n);
        else resolve();
      });
    step(0);
  });
}

/** One regular file being written: its descriptor, next offset and writes in flight. */
class FileWrites {
  private pos = 0;
  private inFlight = 0;
  private failure: Error | undefined;
  private waiters: (() => void)[] = [];
  private closeWhenIdle = false;

  constructor(readonly fd: number) {}

  write(chunk: Uint8Array): void | Promise<void> {
    if (this.failure) throw this.failure;
    const at = this.pos;
    this.pos += chunk.length;
    if (chunk.length < ASYNC_WRITE_MIN) {
      let off = 0;
      while (off < chunk.length) off += writeSync(this.fd, chunk, off, chunk.length - off, at + off);
      return;
    }
    this.inFlight++;
    writeAllAt(this.fd, chunk, at).then(
      () => this.settled(),
      (e: Error) => {
        this.failure ??= e;
        this.settled();
      },
    );
    if (this.inFlight >= MAX_IN_FLIGHT) return this.idle(MAX_IN_FLIGHT - 1);
  }

  /** Waits until at most `max` writes are in flight, then throws the first failure if any. */
  async idle(max = 0): Promise<void> {
    while (this.inFlight > max) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.failure) throw this.failure;
  }

  /** Closes the descriptor now, or once the writes in flight are done (never under them). */
  abandon(): void {
    if (this.inFlight === 0) closeSync(this.fd);
    else this.closeWhenIdle = true;
  }

  private settled(): void {
    this.inFlight--;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
    if (this.closeWhenIdle && this.inFlight === 0) closeSync(this.fd);
  }
}

export function diskNarSink(root: string, opts: { fsync?: boolean } = {}): DiskNarSink {
  const dirs: string[] = [];
  const open = new Set<FileWrites>();
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
      const file = new FileWrites(
        openSync(p, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644),
      );
      open.add(file);
      return {
        write: (chunk) => file.write(chunk),
        async close() {
          if (!open.has(file)) return;
          try {
            await file.idle();
            // abort() while waiting has the descriptor closed (or closing): leave it alone.
            if (!open.has(file)) return;
            if (opts.fsync) fsyncSync(file.fd);
            fchmodSync(file.fd, executable ? 0o555 : 0o444);
            futimesSync(file.fd, STORE_MTIME, STORE_MTIME);
          } finally {
            // abort() may have taken it meanwhile.
            if (open.delete(file)) file.abandon();
          }
        },
      };
    },
    abort() {
      for (const file of open) file.abandon();
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
