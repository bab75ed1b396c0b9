// NAR serialisation of a real file-system tree, synchronous and fast: file contents are read straight
// into the output chunk (no intermediate copy), names are handled as raw bytes (non-UTF-8 names
// survive), and entries are sorted byte-wise like `nix-store --dump`. Each yielded chunk is a fresh
// buffer that is never written again, so consumers may keep it — except chunks read into the
// buffers of a pool the consumer passed in, which it gives back instead.
import {
  closeSync,
  constants,
  type Dirent,
  fstatSync,
  lstatSync,
  openSync,
  read,
  readdirSync,
  readlinkSync,
  readSync,
  type Stats,
} from 'node:fs';
import { type Hash, type HashAlgo, HashSink } from '../formats/hash.js';
import { FRAMED, padded } from '../formats/nar-tokens.js';
import { BufferPool } from './buffer-pool.js';
import { StoreError } from './errors.js';

export type FileType = 'regular' | 'directory' | 'symlink' | 'unknown';
/** Nix's PathFilter: called with the full path of every entry below the root; false drops it. */
export type PathFilter = (path: string, type: FileType) => boolean;

const FIRST_CHUNK = 64 * 1024;
const CHUNK = 1024 * 1024;
const SLASH = Buffer.from('/');

export function fileType(st: Stats): FileType {
  if (st.isFile()) return 'regular';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  return 'unknown';
}

class Chunker {
  buf: Buffer = Buffer.allocUnsafeSlow(FIRST_CHUNK);
  pos = 0;
  ready: Buffer[] = [];

  /** Makes room for `n` more bytes (n <= CHUNK) in the current chunk. */
  room(n: number): void {
    if (this.buf.length - this.pos < n) this.flush(Math.max(CHUNK, n));
  }

  flush(nextSize = CHUNK): void {
    if (this.pos > 0) this.ready.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafeSlow(nextSize);
    this.pos = 0;
  }

  raw(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  u64(n: number): void {
    this.room(8);
    this.buf.writeUInt32LE(n >>> 0, this.pos);
    this.buf.writeUInt32LE(Math.floor(n / 2 ** 32), this.pos + 4);
    this.pos += 8;
  }

  zeros(n: number): void {
    this.room(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  str(b: Uint8Array): void {
    this.u64(b.length);
    this.raw(b);
    this.zeros(padded(b.length) - b.length);
  }
}

function dumpError(path: Buffer | string, detail: string): StoreError {
  return new StoreError('UNSUPPORTED', `cannot dump path '${path.toString()}': ${detail}`);
}

/** Files at least this large are read by the consumer (dumpPath reads them asynchronously, ahead). */
const BIG_FILE = 4 * 1024 * 1024;
/** The chunk size of big-file reads; a BufferPool handed to dumpPath should use it. */
export const BIG_CHUNK = 2 * 1024 * 1024;
/** Reads in flight on a big file (16 MiB): enough to keep a fast disk busy while the consumer works. */
const READ_AHEAD = 8;

/**
 * A pool for dumpPath's big-file reads whose consumer gives each chunk back once it has sent it
 * on: it keeps what the reads in flight and the chunks being written need, so that a large NAR
 * touches a few megabytes of fresh memory instead of its whole size.
 */
export function recycledReadPool(): BufferPool {
  return new BufferPool(BIG_CHUNK, 2 * READ_AHEAD);
}

/** The contents of a big regular file, left to the consumer to read from `fd` (open until resumed). */
interface BigFile {
  kind: 'big';
  fd: number;
  size: number;
  path: Buffer;
}

type Piece = Buffer | BigFile;

/** Regular files: one open and one fstat (mode and size from the open descriptor, no lstat). */
function* dumpFile(path: Buffer, c: Chunker): Generator<Piece> {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw dumpError(path, 'file changed type while being read');
    c.raw(st.mode & 0o100 ? FRAMED.executable : FRAMED.regular);
    const size = st.size;
    c.u64(size);
    if (size >= BIG_FILE) {
      c.flush();
      yield* c.ready.splice(0);
      yield { kind: 'big', fd, size, path };
      if (fstatSync(fd).size !== size) throw dumpError(path, `file changed size while being read`);
    } else {
      // Exactly `size` bytes, as Nix reads them: a file that shrank is an error.
      let left = size;
      while (left > 0) {
        if (c.pos === c.buf.length) c.flush();
        const n = readSync(fd, c.buf, c.pos, Math.min(c.buf.length - c.pos, left), null);
        if (n === 0) throw dumpError(path, `file shrank while being read (expected ${size} bytes)`);
        c.pos += n;
        left -= n;
        if (c.ready.length) yield* c.ready.splice(0);
      }
    }
    c.zeros(padded(size) - size);
  } finally {
    closeSync(fd);
  }
  c.raw(FRAMED.close);
}

function* readBigSync(f: BigFile): Generator<Buffer> {
  for (let left = f.size; left > 0; ) {
    const buf = Buffer.allocUnsafeSlow(Math.min(BIG_CHUNK, left));
    const n = readSync(f.fd, buf, 0, buf.length, f.size - left);
    if (n === 0) throw dumpError(f.path, `file shrank while being read (expected ${f.size} bytes)`);
    left -= n;
    yield n === buf.length ? buf : buf.subarray(0, n);
  }
}

function readAt(fd: number, buf: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buf, 0, buf.length, position, (err, n) => (err ? reject(err) : resolve(n))),
  );
}

/**
 * Reads a big file on the thread pool, READ_AHEAD chunks ahead, so disk reads overlap with the
 * consumer. Whole chunks come from `pool` when one is given (the last, short one is a slice).
 */
async function* readBigAsync(f: BigFile, pool: BufferPool | undefined): AsyncGenerator<Buffer> {
  const chunk = pool?.size ?? BIG_CHUNK;
  let offset = 0;
  const next = (): Promise<Buffer> | undefined => {
    if (offset >= f.size) return undefined;
    const len = Math.min(chunk, f.size - offset);
    const whole = pool ? pool.take() : Buffer.allocUnsafeSlow(len);
    const buf = whole.length === len ? whole : whole.subarray(0, len);
    const at = offset;
    offset += len;
    return readAt(f.fd, buf, at).then((n) => {
      if (n !== len) throw dumpError(f.path, `file shrank while being read (expected ${f.size} bytes)`);
      return buf;
    });
  };
  const pending: Promise<Buffer>[] = [];
  const fill = () => {
    for (let p = next(); p; p = pending.length < READ_AHEAD ? next() : undefined) pending.push(p);
  };
  try {
    fill();
    while (pending.length > 0) {
      const buf = await pending.shift()!;
      fill();
      yield buf;
    }
  } finally {
    // A consumer that stops early leaves reads in flight on a descriptor about to be closed.
    for (const p of pending) p.catch(() => {});
  }
}

function direntType(d: Dirent<Buffer>): FileType {
  if (d.isFile()) return 'regular';
  if (d.isDirectory()) return 'directory';
  if (d.isSymbolicLink()) return 'symlink';
  return 'unknown';
}

function* dumpNode(
  path: Buffer,
  type: FileType,
  c: Chunker,
  filter: PathFilter | undefined,
): Generator<Piece> {
  if (type === 'regular') {
    yield* dumpFile(path, c);
  } else if (type === 'symlink') {
    c.raw(FRAMED.symlink);
    c.str(readlinkSync(path, { encoding: 'buffer' }));
    c.raw(FRAMED.close);
  } else if (type === 'directory') {
    c.raw(FRAMED.directory);
    // The entry types come from readdir itself (node lstats only where the file system has none).
    const entries = readdirSync(path, { encoding: 'buffer', withFileTypes: true });
    entries.sort((a, b) => Buffer.compare(a.name, b.name));
    for (const entry of entries) {
      const child = Buffer.concat([path, SLASH, entry.name]);
      const childType = direntType(entry);
      if (filter && !filter(child.toString(), childType)) continue;
      c.raw(FRAMED.entry);
      c.str(entry.name);
      c.raw(FRAMED.node);
      yield* dumpNode(child, childType, c, filter);
      c.raw(FRAMED.close);
    }
    c.raw(FRAMED.close);
  } else {
    throw dumpError(path, 'file has an unsupported type');
  }
  if (c.ready.length) yield* c.ready.splice(0);
}

function* pieces(path: string, filter: PathFilter | undefined): Generator<Piece> {
  const c = new Chunker();
  c.raw(FRAMED.magic);
  const p = Buffer.from(path);
  yield* dumpNode(p, fileType(lstatSync(p)), c, filter);
  c.flush(0);
  yield* c.ready.splice(0);
}

/**
 * The NAR of `path` (not following a symlink at the root) as a synchronous stream of chunks.
 * `filter` is applied to every entry below the root, as Nix's `dumpPath` does.
 */
export function* dumpPathSync(path: string, opts: { filter?: PathFilter } = {}): Generator<Buffer> {
  for (const piece of pieces(path, opts.filter)) {
    if (Buffer.isBuffer(piece)) yield piece;
    else yield* readBigSync(piece);
  }
}

/** The hash (sha256 unless `algo` says otherwise) of the NAR of the tree at `path`, and its size. */
export function narHashSync(path: string, algo: HashAlgo = 'sha256'): { hash: Hash; size: number } {
  const h = new HashSink(algo);
  for (const chunk of dumpPathSync(path)) h.update(chunk);
  return { hash: h.finish(), size: h.bytesSeen };
}

/** The hash of a regular file's contents (a flat content address), read 1 MiB at a time. */
export function fileHashSync(path: string, algo: HashAlgo = 'sha256'): Hash {
  const h = new HashSink(algo);
  const fd = openSync(path, constants.O_RDONLY);
  try {
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.finish();
}

export interface DumpOptions {
  filter?: PathFilter;
  /**
   * Big files are read into this pool's buffers; the consumer gives each chunk back (pool.give)
   * once it no longer needs it, instead of keeping it.
   */
  pool?: BufferPool;
}

/**
 * The same stream, asynchronously: small files and metadata are produced synchronously (fast for
 * many small files), big files are read on the thread pool ahead of the consumer.
 */
export async function* dumpPath(path: string, opts: DumpOptions = {}): AsyncGenerator<Buffer> {
  for (const piece of pieces(path, opts.filter)) {
    if (Buffer.isBuffer(piece)) yield piece;
    else yield* readBigAsync(piece, opts.pool);
  }
}
