// Worker-protocol queries: validity, path infos, referrers, derivers, derivation outputs, missing
// paths, substitutes (from the daemon's own substituters, unless the client turned substitution
// off) and NARs.

import { substitutesAllowed } from '../build/plan.js';
import { WireWriter } from '../formats/wire.js';
import { StoreError } from '../store/errors.js';
import type { DerivedPath, ValidPathInfo } from '../store/store.js';
import { assertStorePath } from '../store/store-paths.js';
import type { SubstitutableInfo } from '../store/substitute.js';
import {
  narHashBase16,
  readDerivedPaths,
  readStorePath,
  readStorePaths,
  WorkerOp,
  writeValidPathInfo,
} from '../store/worker-protocol.js';
import {
  type DaemonStore,
  need,
  readStoreDerivation,
  type WorkerConn,
  type WorkerSubstituters,
} from './worker-context.js';

type Op = (c: WorkerConn) => Promise<void>;

async function pathInfoOrThrow(store: DaemonStore, path: string) {
  const info = await store.queryPathInfo(path);
  if (!info) throw new StoreError('INVALID_PATH', `path '${path}' is not valid`);
  return info;
}

/** A one-path query answered with a path set. */
function pathSetQuery(f: (c: WorkerConn, path: string) => Promise<Iterable<string>>): Op {
  return async (c) => {
    const path = await readStorePath(c.inp, c.store.storeDir);
    c.logger.startWork();
    const res = await f(c, path);
    c.logger.stopWork();
    c.reply.stringSet(res);
  };
}

/** Substitutable infos, looked up once per path. */
type SubstituteLookup = (path: string) => Promise<SubstitutableInfo | undefined>;

/** `f` with the daemon's substituters when the client allows substitution; else `none`. */
async function withSubstituters<T>(
  c: WorkerConn,
  none: T,
  f: (s: WorkerSubstituters) => Promise<T>,
): Promise<T> {
  const s = c.settings.useSubstitutes ? c.substituters?.() : undefined;
  if (!s) return none;
  try {
    return await f(s);
  } finally {
    await s.close();
  }
}

/** queryMissing's lookup over substituters that answer `query`, asking once per path. */
export function lookupWith(
  s: { query(paths: string[]): Promise<Map<string, SubstitutableInfo>> } | undefined,
): SubstituteLookup | undefined {
  if (!s) return undefined;
  const memo = new Map<string, Promise<SubstitutableInfo | undefined>>();
  return (path) => {
    let r = memo.get(path);
    if (!r) {
      r = s.query([path]).then((m) => m.get(path));
      memo.set(path, r);
    }
    return r;
  };
}

/**
 * Nix's queryMissing: what must be built, what will be substituted (with download and NAR sizes),
 * and what nobody can provide. A derivation whose missing outputs are all substitutable (and that
 * allows substitutes) is substituted rather than built. `buildInputs` gives the input derivations
 * of each derivation to build (for ordering them).
 */
export async function queryMissing(
  store: DaemonStore,
  targets: DerivedPath[],
  substitutable?: SubstituteLookup,
) {
  const willBuild = new Set<string>();
  const buildInputs = new Map<string, string[]>();
  const willSubstitute = new Set<string>();
  const unknown = new Set<string>();
  const done = new Set<string>();
  let downloadSize = 0;
  let narSize = 0;
  // The opaque targets (often many: `nix path-info` of a list) are looked up in one batch.
  const opaque = new Set(targets.flatMap((t) => (t.kind === 'opaque' ? [t.path] : [])));
  const validOpaque = await store.queryValidPaths(opaque);
  const isValid = async (path: string) =>
    opaque.has(path) ? validOpaque.has(path) : store.isValidPath(path);
  const visitOpaque = async (path: string): Promise<void> => {
    if (done.has(path)) return;
    done.add(path);
    if (await isValid(path)) return;
    const info = await substitutable?.(path);
    if (!info) {
      unknown.add(path);
      return;
    }
    willSubstitute.add(path);
    downloadSize += info.downloadSize;
    narSize += info.narSize;
    for (const r of info.references) if (r !== path) await visitOpaque(r);
  };
  const visit = async (p: DerivedPath): Promise<void> => {
    if (p.kind === 'opaque') return visitOpaque(p.path);
    const key = `${p.drvPath}!${p.outputs.join(',')}`;
    if (done.has(key)) return;
    done.add(key);
    if (!(await isValid(p.drvPath))) {
      unknown.add(p.drvPath);
      return;
    }
    const drv = await readStoreDerivation(store, p.drvPath);
    const wanted = p.outputs.includes('*') ? [...drv.outputs.keys()] : p.outputs;
    const paths = wanted.map((o) => drv.outputs.get(o)?.path ?? '');
    const valid = await store.queryValidPaths(paths.filter((q) => q !== ''));
    const invalid = paths.filter((q) => !valid.has(q));
    if (invalid.length === 0) return;
    if (substitutable && !invalid.includes('') && substitutesAllowed(p.drvPath, drv)) {
      const infos = await Promise.all(invalid.map((q) => substitutable(q)));
      if (infos.every((i) => i !== undefined)) {
        for (const q of invalid) await visitOpaque(q);
        return;
      }
    }
    willBuild.add(p.drvPath);
    buildInputs.set(p.drvPath, [...drv.inputDrvs.keys()]);
    for (const src of drv.inputSrcs) await visitOpaque(src);
    for (const [inDrv, outs] of drv.inputDrvs) await visit({ kind: 'built', drvPath: inDrv, outputs: outs });
  };
  for (const t of targets) await visit(t);
  return { willBuild, buildInputs, willSubstitute, unknown, downloadSize, narSize };
}

function writeSubstitutable(c: WorkerConn, info: SubstitutableInfo): void {
  c.reply.string(info.deriver ?? '').stringSet(info.references);
  c.reply.u64(info.downloadSize).u64(info.narSize);
}

/** The end of QueryPathInfo, once the store answered (`info` undefined: not valid). */
export function replyPathInfo(c: WorkerConn, path: string, info: ValidPathInfo | undefined): void {
  if (!info && c.minor < 17) throw new StoreError('INVALID_PATH', `path '${path}' is not valid`);
  c.logger.stopWork();
  if (c.minor >= 17) c.reply.bool(info !== undefined);
  if (info) writePathInfo(c.reply, info, c.minor);
}

/** Encoded frozen infos (a store's shared answers), per protocol minor version. */
const encodedInfos = new Map<number, WeakMap<ValidPathInfo, Uint8Array>>();
const scratch = new WireWriter();

/**
 * writeValidPathInfo (unkeyed) of `info`; a frozen info (and arrays) cannot change, so its bytes
 * are encoded once and reused for as long as the info object lives.
 */
function writePathInfo(out: WireWriter, info: ValidPathInfo, minor: number): void {
  let byInfo = encodedInfos.get(minor);
  if (byInfo === undefined) {
    byInfo = new WeakMap();
    encodedInfos.set(minor, byInfo);
  }
  // Only frozen infos are ever added, so a hit needs no further check.
  let bytes = byInfo.get(info);
  if (bytes === undefined) {
    if (!(Object.isFrozen(info) && Object.isFrozen(info.references) && Object.isFrozen(info.sigs))) {
      writeValidPathInfo(out, info, minor, { keyed: false });
      return;
    }
    try {
      writeValidPathInfo(scratch, info, minor, { keyed: false });
      bytes = scratch.toBytes().slice();
    } finally {
      scratch.takeChunks();
    }
    byInfo.set(info, bytes);
  }
  out.raw(bytes);
}

export const queryOps: Record<number, Op> = {
  [WorkerOp.IsValidPath]: async (c) => {
    const path = await readStorePath(c.inp, c.store.storeDir);
    c.logger.startWork();
    const valid = await c.store.isValidPath(path);
    c.logger.stopWork();
    c.reply.bool(valid);
  },

  [WorkerOp.QueryValidPaths]: async (c) => {
    const paths = await readStorePaths(c.inp, c.store.storeDir);
    const substitute = c.minor >= 27 ? await c.inp.bool() : false;
    c.logger.startWork();
    // As nix-daemon: with `substitute`, first fetch what the substituters have.
    if (substitute) await withSubstituters(c, undefined, (s) => s.prefetch([...paths]));
    const valid = await c.store.queryValidPaths(paths);
    c.logger.stopWork();
    c.reply.stringSet(valid);
  },

  [WorkerOp.HasSubstitutes]: async (c) => {
    const path = await readStorePath(c.inp, c.store.storeDir);
    c.logger.startWork();
    const infos = await withSubstituters(c, new Map(), (s) => s.query([path]));
    c.logger.stopWork();
    c.reply.bool(infos.has(path));
  },

  [WorkerOp.QuerySubstitutablePaths]: async (c) => {
    const paths = await readStorePaths(c.inp, c.store.storeDir);
    c.logger.startWork();
    const infos = await withSubstituters(c, new Map(), (s) => s.query(paths, { massQuery: true }));
    c.logger.stopWork();
    c.reply.stringSet(infos.keys());
  },

  [WorkerOp.QuerySubstitutablePathInfo]: async (c) => {
    const path = await readStorePath(c.inp, c.store.storeDir);
    c.logger.startWork();
    const info = (await withSubstituters(c, new Map(), (s) => s.query([path]))).get(path);
    c.logger.stopWork();
    c.reply.u64(info ? 1 : 0);
    if (info) writeSubstitutable(c, info);
  },

  [WorkerOp.QuerySubstitutablePathInfos]: async (c) => {
    // From 1.22 a map: path -> optional content address (unused: tix has no CA derivations).
    const paths =
      c.minor < 22 ? await readStorePaths(c.inp, c.store.storeDir) : [...(await c.inp.stringMap()).keys()];
    for (const p of paths) assertStorePath(p, c.store.storeDir);
    c.logger.startWork();
    const infos = await withSubstituters(c, new Map<string, SubstitutableInfo>(), (s) => s.query(paths));
    c.logger.stopWork();
    c.reply.u64(infos.size);
    for (const [path, info] of infos) {
      c.reply.string(path);
      writeSubstitutable(c, info);
    }
  },

  [WorkerOp.QueryPathHash]: async (c) => {
    const path = await readStorePath(c.inp, c.store.storeDir);
    c.logger.startWork();
    const info = await pathInfoOrThrow(c.store, path);
    c.logger.stopWork();
    c.reply.string(narHashBase16(info.narHash));
  },

  [WorkerOp.QueryReferences]: pathSetQuery(async (c, p) => (await pathInfoOrThrow(c.store, p)).references),
  [WorkerOp.QueryReferrers]: pathSetQuery((c, p) => c.store.queryReferrers(p)),
  [WorkerOp.QueryValidDerivers]: pathSetQuery((c, p) => need(c.store, 'queryValidDerivers')(p)),
  [WorkerOp.QueryDerivationOutputs]: pathSetQuery(async (c, p) =>
    [...(await readStoreDerivation(c.store, p)).outputs.values()].map((o) => o.path).filter((q) => q !== ''),
  ),

  [WorkerOp.QueryDerivationOutputNames]: async (c) => {
    const path = await readStorePath(c.inp, c.store.storeDir);
    c.logger.startWork();
    const drv = await readStoreDerivation(c.store, path);
    c.logger.stopWork();
    c.reply.stringSet(drv.outputs.keys());
  },

  [WorkerOp.QueryDerivationOutputMap]: async (c) => {
    const path = await readStorePath(c.inp, c.store.storeDir);
    c.logger.startWork();
    const drv = await readStoreDerivation(c.store, path);
    const known = await c.store.queryDerivationOutputMap(path);
    c.logger.stopWork();
    const m = new Map<string, string>();
    for (const name of drv.outputs.keys()) m.set(name, known.get(name) ?? '');
    c.reply.stringMap(m);
  },

  [WorkerOp.QueryDeriver]: async (c) => {
    const path = await readStorePath(c.inp, c.store.storeDir);
    c.logger.startWork();
    const info = await pathInfoOrThrow(c.store, path);
    c.logger.stopWork();
    c.reply.string(info.deriver ?? '');
  },

  [WorkerOp.QueryPathFromHashPart]: async (c) => {
    const hashPart = await c.inp.string(1024);
    c.logger.startWork();
    const path = await need(c.store, 'queryPathFromHashPart')(hashPart);
    c.logger.stopWork();
    c.reply.string(path ?? '');
  },

  [WorkerOp.QueryPathInfo]: async (c) => {
    const path = await readStorePath(c.inp, c.store.storeDir);
    c.logger.startWork();
    replyPathInfo(c, path, await c.store.queryPathInfo(path));
  },

  [WorkerOp.QueryAllValidPaths]: async (c) => {
    c.logger.startWork();
    const paths = await need(c.store, 'queryAllValidPaths')();
    c.logger.stopWork();
    c.reply.stringSet(paths);
  },

  [WorkerOp.QueryMissing]: async (c) => {
    const targets = await readDerivedPaths(c.inp, c.minor, c.store.storeDir);
    c.logger.startWork();
    const m =
      (await withSubstituters(c, undefined, (s) => queryMissing(c.store, targets, lookupWith(s)))) ??
      (await queryMissing(c.store, targets));
    c.logger.stopWork();
    c.reply.stringSet(m.willBuild).stringSet(m.willSubstitute).stringSet(m.unknown);
    c.reply.u64(m.downloadSize).u64(m.narSize);
  },

  [WorkerOp.QueryRealisation]: async (c) => {
    c.logger.startWork();
    await c.inp.string(1024); // DrvOutput id: tix records no realisations (no ca-derivations)
    c.logger.stopWork();
    c.reply.stringSet([]);
  },

  [WorkerOp.NarFromPath]: async (c) => {
    const path = await readStorePath(c.inp, c.store.storeDir);
    c.logger.startWork();
    if (!(await c.store.isValidPath(path)))
      throw new StoreError('INVALID_PATH', `path '${path}' is not valid`);
    c.logger.stopWork();
    // The NAR follows STDERR_LAST unframed; a failure half-way can only end the connection.
    for await (const chunk of c.store.narFromPath(path)) {
      c.logger.send([chunk]);
      await c.logger.flush();
    }
  },
};
