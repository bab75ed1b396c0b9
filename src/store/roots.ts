// GC roots of a local store: symlinks (direct, or indirect through gcroots/auto) under gcroots/ and
// profiles/, regular files named like a store path, temp roots of live processes, and runtime
// roots (store paths in use by running processes, from /proc).
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { hashBytes } from '../formats/hash.js';
import { toNix32 } from '../formats/nix32.js';
import { isStorePath } from '../formats/store-path.js';
import { StoreError } from './errors.js';
import { readTempRoots } from './temp-roots.js';

export interface RootsContext {
  storeDir: string;
  realStoreDir: string;
  stateDir: string;
  isValid(path: string): boolean;
}

/** One root: where it was found (a link, a file, "{temp:<pid>}", a /proc entry) and the store path. */
export interface GcRoot {
  link: string;
  path: string;
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/** The store path (logical) a path inside the store belongs to, or undefined. */
export function toStorePathIn(
  ctx: Pick<RootsContext, 'storeDir' | 'realStoreDir'>,
  target: string,
): string | undefined {
  for (const dir of [ctx.storeDir, ctx.realStoreDir]) {
    if (!target.startsWith(`${dir}/`)) continue;
    const base = target.slice(dir.length + 1).split('/')[0]!;
    const p = `${ctx.storeDir}/${base}`;
    if (isStorePath(p, ctx.storeDir)) return p;
  }
  return undefined;
}

function readLinkOrUndefined(p: string): string | undefined {
  try {
    return readlinkSync(p);
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'EINVAL' || errno(e) === 'EACCES') return undefined;
    throw e;
  }
}

function scanRoots(ctx: RootsContext, path: string, out: GcRoot[], autoDir: string): void {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch (e) {
    if (errno(e) === 'ENOENT') return;
    throw e;
  }
  if (st.isDirectory()) {
    for (const name of readdirSync(path)) scanRoots(ctx, join(path, name), out, autoDir);
  } else if (st.isSymbolicLink()) {
    const target = resolve(dirname(path), readlinkSync(path));
    const direct = toStorePathIn(ctx, target);
    if (direct !== undefined) {
      if (ctx.isValid(direct)) out.push({ link: path, path: direct });
      return;
    }
    // An indirect root: a link to a link (e.g. ./result) into the store.
    const second = readLinkOrUndefined(target);
    if (second === undefined) {
      let exists = true;
      try {
        lstatSync(target);
      } catch (e) {
        if (errno(e) !== 'ENOENT') throw e;
        exists = false;
      }
      if (!exists && dirname(path) === autoDir) unlinkSync(path);
      return;
    }
    const p = toStorePathIn(ctx, resolve(dirname(target), second));
    if (p !== undefined && ctx.isValid(p)) out.push({ link: target, path: p });
  } else if (st.isFile()) {
    const p = `${ctx.storeDir}/${path.slice(path.lastIndexOf('/') + 1)}`;
    if (isStorePath(p, ctx.storeDir) && ctx.isValid(p)) out.push({ link: path, path: p });
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Store paths mentioned by running processes: exe, cwd, open files, mappings, environment. */
export function findRuntimeRoots(ctx: RootsContext): GcRoot[] {
  const out: GcRoot[] = [];
  const re = new RegExp(
    `(?:${escapeRe(ctx.storeDir)}|${escapeRe(ctx.realStoreDir)})/[0-9a-df-np-sv-z]{32}-[0-9a-zA-Z+\\-._?=]+`,
    'g',
  );
  const add = (link: string, target: string) => {
    const p = toStorePathIn(ctx, target);
    if (p !== undefined && ctx.isValid(p)) out.push({ link, path: p });
  };
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^[0-9]+$/.test(n));
  } catch {
    return out;
  }
  for (const pid of pids) {
    const base = `/proc/${pid}`;
    for (const l of ['exe', 'cwd']) {
      const t = readLinkOrUndefined(`${base}/${l}`);
      if (t) add(`${base}/${l}`, t);
    }
    let fds: string[] = [];
    try {
      fds = readdirSync(`${base}/fd`);
    } catch {}
    for (const fd of fds) {
      const t = readLinkOrUndefined(`${base}/fd/${fd}`);
      if (t) add(`${base}/fd/${fd}`, t);
    }
    for (const f of ['maps', 'environ']) {
      let text: string;
      try {
        text = readFileSync(`${base}/${f}`, 'latin1');
      } catch {
        continue;
      }
      for (const m of text.matchAll(re)) add(`${base}/${f}`, m[0]);
    }
  }
  return out;
}

/**
 * All roots. `temp` adds the temp roots of live processes (stale temproots files are deleted) —
 * these may name paths that are not valid yet; `runtime` adds /proc roots.
 */
export function listRoots(ctx: RootsContext, opts: { temp?: boolean; runtime?: boolean } = {}): GcRoot[] {
  const out: GcRoot[] = [];
  const autoDir = join(ctx.stateDir, 'gcroots', 'auto');
  scanRoots(ctx, join(ctx.stateDir, 'gcroots'), out, autoDir);
  scanRoots(ctx, join(ctx.stateDir, 'profiles'), out, autoDir);
  if (opts.temp ?? true) {
    for (const [pid, paths] of readTempRoots(ctx.stateDir)) {
      for (const p of paths) if (isStorePath(p, ctx.storeDir)) out.push({ link: `{temp:${pid}}`, path: p });
    }
  }
  if (opts.runtime ?? true) out.push(...findRuntimeRoots(ctx));
  return out;
}

/** Replaces (or creates) the symlink `link` -> `target` atomically. */
export function replaceSymlink(target: string, link: string): void {
  const tmp = `${link}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  symlinkSync(target, tmp);
  try {
    renameSync(tmp, link);
  } catch (e) {
    unlinkSync(tmp);
    throw e;
  }
}

/** gcroots/auto/<nix32(sha1(link))> -> link: `link` (e.g. ./result) becomes an indirect root. */
export function addIndirectRoot(stateDir: string, linkPath: string): string {
  const link = resolve(linkPath);
  const dir = join(stateDir, 'gcroots', 'auto');
  mkdirSync(dir, { recursive: true });
  const auto = join(dir, toNix32(hashBytes('sha1', link).digest));
  replaceSymlink(link, auto);
  return auto;
}

/**
 * Makes `linkPath` a symlink to `storePath` (its physical location), to be a root. Refuses to put
 * the link inside the store, or to replace anything but a symlink into the store.
 */
export function makeRootLink(
  ctx: Pick<RootsContext, 'storeDir' | 'realStoreDir'>,
  storePath: string,
  linkPath: string,
): string {
  const link = resolve(linkPath);
  if (toStorePathIn(ctx, link) !== undefined || link === ctx.realStoreDir) {
    throw new StoreError('GC', `cannot create GC root '${link}': it would be inside the store`);
  }
  let existing: string | undefined;
  let exists = true;
  try {
    existing = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : undefined;
  } catch (e) {
    if (errno(e) !== 'ENOENT') throw e;
    exists = false;
  }
  if (
    exists &&
    (existing === undefined || toStorePathIn(ctx, resolve(dirname(link), existing)) === undefined)
  ) {
    throw new StoreError(
      'GC',
      `cannot create symlink '${link}': it already exists and does not point into the store`,
    );
  }
  // In a chroot-style store the link points at the physical copy, so that `result` is usable on a
  // machine without /nix/store; GC recognises both forms as roots.
  const target = storePath.startsWith(`${ctx.storeDir}/`)
    ? ctx.realStoreDir + storePath.slice(ctx.storeDir.length)
    : storePath;
  replaceSymlink(target, link);
  return link;
}

/** makeRootLink, and the link registered as an indirect root. */
export function addPermRoot(ctx: RootsContext, storePath: string, linkPath: string): string {
  const link = makeRootLink(ctx, storePath, linkPath);
  addIndirectRoot(ctx.stateDir, link);
  return link;
}
