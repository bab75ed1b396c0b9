// An EvalIO over the real file system that computes store paths without a store: sources are
// NAR-hashed in place and remembered, so that reading a store path we "added" reads the source.
// With `storeWriteDir` (the physical store directory of a chroot store), store paths are read from
// there and added paths are also written there (as <storeWriteDir>/<hash>-<name>); `tix eval`
// uses that, so that it need not open the store's database.
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import {
  type Hash,
  HashSink,
  hashBase16,
  hashBytes,
  hashEquals,
  parseHash,
  printHash,
} from '../formats/hash.js';
import { makeFixedOutputPath, makeTextPathBase16 } from '../formats/store-path.js';
import { childProcess } from './child-process.js';
import { hashMismatchError, NixEvalError } from './errors.js';
import { fetchMercurial } from './fetch-hg.js';
import { fetchTempDir } from './fetch-temp.js';
import { copyPathSync, dumpPathSync, lstatType } from './fs-nar.js';
import type {
  AddToStoreOptions,
  EvalIO,
  FetchGitOptions,
  FetchGitResult,
  FetchHgOptions,
  FetchHgResult,
  FetchUrlOptions,
  FileType,
} from './io.js';

/** A path added from the file system, read where it came from. */
interface FsEntry {
  kind: 'fs';
  src: string;
  filter?: AddToStoreOptions['filter'];
  flat: boolean;
}
/** An added path: from the file system, or a text object's contents (kept as given). */
type Entry = FsEntry | Uint8Array | string;

/** A path added (not only computed), as the store would be asked to add it. */
export type AddedPath =
  | { kind: 'text'; path: string; name: string; text: Uint8Array | string; references: string[] }
  | {
      kind: 'fs';
      path: string;
      name: string;
      src: string;
      method: 'flat' | 'recursive';
      filter?: AddToStoreOptions['filter'];
    };

function isText(e: Entry): e is Uint8Array | string {
  return typeof e === 'string' || e instanceof Uint8Array;
}

export interface MemoryEvalIOOptions {
  storeDir?: string;
  /**
   * The physical store directory (a chroot store's <root>/nix/store): store paths are read there
   * and added paths written into it (by base name). Absent: storeDir itself, and nothing written.
   */
  storeWriteDir?: string;
}

export function narHashOf(path: string, filter?: AddToStoreOptions['filter']): Hash {
  const sink = new HashSink('sha256');
  dumpPathSync(path, sink, filter);
  return sink.finish();
}

/**
 * Nix's canonPath(path, true): every symlink on the way is replaced by its target, and components
 * that do not exist are kept as they are (so a dangling link resolves to what it names).
 */
export function resolveLinks(path: string): string {
  let out = '';
  const todo = path.split('/').reverse();
  let links = 0;
  while (todo.length > 0) {
    const c = todo.pop()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      out = out.slice(0, out.lastIndexOf('/'));
      continue;
    }
    const next = `${out}/${c}`;
    let target: string | undefined;
    try {
      if (fs.lstatSync(next).isSymbolicLink()) target = fs.readlinkSync(next);
    } catch {
      // Missing: kept as it is.
    }
    if (target === undefined) {
      out = next;
      continue;
    }
    if (++links > 1024) throw new NixEvalError('IO', `infinite symlink recursion in path '${path}'`);
    if (target.startsWith('/')) out = '';
    todo.push(...target.split('/').reverse());
  }
  return out === '' ? '/' : out;
}

/**
 * Unpacks the tarball `file` (any compression tar recognises) into the empty directory `into` and
 * returns the tree it holds, as Nix's unpacking fetchers take it: its one top directory, else `into`.
 */
export function unpackTarball(file: string, into: string): string {
  childProcess().execFileSync('tar', ['-xf', file, '-C', into], { stdio: ['ignore', 'ignore', 'pipe'] });
  const top = fs.readdirSync(into);
  return top.length === 1 && fs.statSync(nodePath.join(into, top[0]!)).isDirectory()
    ? nodePath.join(into, top[0]!)
    : into;
}

export class MemoryEvalIO implements EvalIO {
  readonly storeDir: string;
  private entries = new Map<string, Entry>();
  /** The paths added, each once, in the order added (a path's references come before it). */
  readonly added: AddedPath[] = [];
  constructor(private opts: MemoryEvalIOOptions = {}) {
    this.storeDir = opts.storeDir ?? '/nix/store';
  }

  /** Maps a path below a store path we added back to where its bytes are. */
  private resolve(path: string): { entry: Entry; rest: string } | undefined {
    if (!path.startsWith(`${this.storeDir}/`)) return undefined;
    const rel = path.slice(this.storeDir.length + 1);
    const slash = rel.indexOf('/');
    const base = slash < 0 ? rel : rel.slice(0, slash);
    const entry = this.entries.get(`${this.storeDir}/${base}`);
    if (entry === undefined) return undefined;
    return { entry, rest: slash < 0 ? '' : rel.slice(slash) };
  }

  /** Where a path's bytes are: an added path's source, a store path in a chroot store's tree. */
  private real(path: string): string {
    const r = this.resolve(path);
    if (r && !isText(r.entry)) return r.entry.src + r.rest;
    const dir = this.opts.storeWriteDir;
    if (dir && path.startsWith(`${this.storeDir}/`)) return dir + path.slice(this.storeDir.length);
    return path;
  }

  pathExists(path: string): boolean {
    const r = this.resolve(path);
    if (r && isText(r.entry)) return r.rest === '';
    try {
      fs.lstatSync(this.real(path));
      return true;
    } catch {
      return false;
    }
  }

  fileType(path: string): FileType | undefined {
    const r = this.resolve(path);
    if (r && isText(r.entry)) return r.rest === '' ? 'regular' : undefined;
    try {
      return lstatType(fs.lstatSync(this.real(path)));
    } catch {
      return undefined;
    }
  }

  readFile(path: string): Uint8Array {
    const r = this.resolve(path);
    if (r && isText(r.entry) && r.rest === '') {
      const b = r.entry;
      return typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
    }
    return fs.readFileSync(this.real(path));
  }

  readDir(path: string): Map<string, FileType> {
    const out = new Map<string, FileType>();
    const dir = this.real(path);
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      out.set(
        d.name,
        d.isFile() ? 'regular' : d.isDirectory() ? 'directory' : d.isSymbolicLink() ? 'symlink' : 'unknown',
      );
    }
    return out;
  }

  realPath(path: string): string {
    let resolved: string;
    try {
      resolved = fs.realpathSync(this.real(path));
    } catch {
      // A dangling link still leads somewhere: resolved as Nix's canonPath(path, true) does.
      resolved = resolveLinks(this.real(path));
    }
    const dir = this.opts.storeWriteDir;
    return dir && resolved.startsWith(`${dir}/`) ? this.storeDir + resolved.slice(dir.length) : resolved;
  }

  isValidPath(storePath: string): boolean {
    if (this.entries.has(storePath)) return true;
    if (this.opts.storeWriteDir)
      return fs.existsSync(nodePath.join(this.opts.storeWriteDir, nodePath.basename(storePath)));
    return fs.existsSync(storePath);
  }

  addToStore(path: string, opts: AddToStoreOptions): string {
    const src = this.real(path);
    let hash: Hash;
    // (a directory fails at the read, as Nix's flat hashing reads whatever it opened)
    if (opts.method === 'flat') hash = hashBytes('sha256', fs.readFileSync(src));
    else hash = narHashOf(src, opts.filter);
    if (opts.expectedHash !== undefined) {
      const expected = parseHash(opts.expectedHash, { algo: 'sha256' });
      if (!hashEquals(expected, hash)) throw hashMismatchError(opts.origin ?? path, expected, hash);
    }
    const sp = makeFixedOutputPath(opts.name, { method: opts.method, hash }, { storeDir: this.storeDir });
    // Read-only (nix-instantiate --eval): the path is only computed, as in Nix; it is not valid after.
    if (opts.readOnly) return sp;
    if (!this.entries.has(sp))
      this.added.push({
        kind: 'fs',
        path: sp,
        name: opts.name,
        src,
        method: opts.method,
        filter: opts.filter,
      });
    this.entries.set(sp, { kind: 'fs', src, filter: opts.filter, flat: opts.method === 'flat' });
    const dir = this.opts.storeWriteDir;
    if (dir) {
      const dest = nodePath.join(dir, nodePath.basename(sp));
      if (!fs.existsSync(dest)) {
        fs.mkdirSync(dir, { recursive: true });
        copyPathSync(src, dest, opts.filter);
      }
    }
    return sp;
  }

  addTextToStore(
    name: string,
    text: Uint8Array | string,
    references: string[],
    opts: { readOnly?: boolean } = {},
  ): string {
    const sp = makeTextPathBase16(name, hashBase16('sha256', text), references, this.storeDir);
    if (opts.readOnly) return sp;
    if (!this.entries.has(sp)) this.added.push({ kind: 'text', path: sp, name, text, references });
    this.entries.set(sp, text);
    const dir = this.opts.storeWriteDir;
    if (dir) {
      const dest = nodePath.join(dir, nodePath.basename(sp));
      if (!fs.existsSync(dest)) {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(dest, text, { mode: 0o444 });
      }
    }
    return sp;
  }

  fetchUrl(url: string, opts: FetchUrlOptions): string {
    const local = localPathOfUrl(url);
    const name = opts.name ?? (opts.unpack ? 'source' : nodePath.basename(local));
    if (!opts.unpack) {
      return this.addToStore(local, { name, method: 'flat', expectedHash: opts.sha256, origin: url });
    }
    fs.accessSync(local, fs.constants.R_OK); // an unreadable file fails as the download would
    const root = unpackTarball(local, fetchTempDir('tix-unpack-'));
    return this.addToStore(root, { name, method: 'recursive', expectedHash: opts.sha256, origin: url });
  }

  fetchMercurial(opts: FetchHgOptions): FetchHgResult {
    return fetchMercurial(opts, (path, o) => this.addToStore(path, o));
  }

  fetchGit(opts: FetchGitOptions): FetchGitResult {
    const repo = localPathOfUrl(opts.url);
    const git = (...args: string[]) =>
      childProcess()
        .execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' })
        .trim();
    const tmp = fetchTempDir('tix-git-');
    const dirty =
      opts.rev === undefined &&
      opts.ref === undefined &&
      git('status', '--porcelain', '--untracked-files=no') !== '';
    if (dirty) {
      // As Nix 2.8: the tracked files as they are in the working tree, with an all-zero rev.
      for (const f of git('ls-files', '-z').split('\0')) {
        const src = nodePath.join(repo, f);
        if (f === '' || !fs.lstatSync(src, { throwIfNoEntry: false })) continue;
        fs.mkdirSync(nodePath.dirname(nodePath.join(tmp, f)), { recursive: true });
        copyPathSync(src, nodePath.join(tmp, f));
      }
    }
    const rev = dirty ? '0'.repeat(40) : (opts.rev ?? git('rev-parse', opts.ref ? opts.ref : 'HEAD'));
    if (!dirty) {
      childProcess().execFileSync('sh', [
        '-c',
        'git -C "$1" archive --format=tar "$2" | tar -xf - -C "$3"',
        'sh',
        repo,
        rev,
        tmp,
      ]);
    }
    const storePath = this.addToStore(tmp, { name: opts.name, method: 'recursive' });
    const lastModified = Number(git('log', '-1', '--format=%ct', dirty ? 'HEAD' : rev) || '0');
    return {
      dirty,
      storePath,
      rev,
      shortRev: rev.slice(0, 7),
      revCount: dirty ? 0 : Number(git('rev-list', '--count', rev)),
      lastModified,
      lastModifiedDate: gitDate(lastModified),
      submodules: opts.submodules,
      narHash: printHash(narHashOf(tmp), 'sri'),
    };
  }
}

function gitDate(seconds: number): string {
  const d = new Date(seconds * 1000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}`;
}

/** file:// URLs and plain local paths; anything else fails clearly. */
function localPathOfUrl(url: string): string {
  if (url.startsWith('file://')) return decodeURIComponent(url.slice('file://'.length));
  if (url.startsWith('/')) return url;
  throw new NixEvalError(
    'FETCH',
    `unable to fetch '${url}': tix can only fetch file:// URLs and local paths during evaluation`,
  );
}
