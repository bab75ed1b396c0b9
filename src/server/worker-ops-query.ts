// Worker-protocol queries: validity, path infos, referrers, derivers, derivation outputs, missing
// paths, substitutes (tix daemons have no substituters, so those answers are empty) and NARs.
import { WireWriter } from '../formats/wire.js';
import { StoreError } from '../store/errors.js';
import type { DerivedPath, ValidPathInfo } from '../store/store.js';
import {
  narHashBase16,
  readDerivedPaths,
  readStorePath,
  readStorePaths,
  WorkerOp,
  writeValidPathInfo,
} from '../store/worker-protocol.js';
import { type DaemonStore, need, readStoreDerivation, type WorkerConn } from './worker-context.js';

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

/** Nix's queryMissing without substituters: what must be built, and what nobody can provide. */
export async function queryMissing(store: DaemonStore, targets: DerivedPath[]) {
  const willBuild = new Set<string>();
  const unknown = new Set<string>();
  const done = new Set<string>();
  // The opaque targets (often many: `nix path-info` of a list) are looked up in one batch.
  const opaque = new Set(targets.flatMap((t) => (t.kind === 'opaque' ? [t.path] : [])));
  const validOpaque = await store.queryValidPaths(opaque);
  const isValid = async (path: string) =>
    opaque.has(path) ? validOpaque.has(path) : store.isValidPath(path);
  const visit = async (p: DerivedPath): Promise<void> => {
    const key = p.kind === 'opaque' ? p.path : `${p.drvPath}!${p.outputs.join(',')}`;
    if (done.has(key)) return;
    done.add(key);
    if (p.kind === 'opaque') {
      if (!(await isValid(p.path))) unknown.add(p.path);
      return;
    }
    if (!(await isValid(p.drvPath))) {
      unknown.add(p.drvPath);
      return;
    }
    const drv = await readStoreDerivation(store, p.drvPath);
    const wanted = p.outputs.includes('*') ? [...drv.outputs.keys()] : p.outputs;
    const paths = wanted.map((o) => drv.outputs.get(o)?.path ?? '');
    const valid = await store.queryValidPaths(paths.filter((q) => q !== ''));
    if (paths.every((q) => q !== '' && valid.has(q))) return;
    willBuild.add(p.drvPath);
    for (const src of drv.inputSrcs) await visit({ kind: 'opaque', path: src });
    for (const [inDrv, outs] of drv.inputDrvs) await visit({ kind: 'built', drvPath: inDrv, outputs: outs });
  };
  for (const t of targets) {
    if (t.kind !== 'opaque') await visit(t);
    else if (!done.has(t.path)) {
      done.add(t.path);
      if (!validOpaque.has(t.path)) unknown.add(t.path);
    }
  }
  return { willBuild, willSubstitute: new Set<string>(), unknown, downloadSize: 0, narSize: 0 };
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
    if (c.minor >= 27) await c.inp.bool(); // substitute: no substituters here
    c.logger.startWork();
    const valid = await c.store.queryValidPaths(paths);
    c.logger.stopWork();
    c.reply.stringSet(valid);
  },

  [WorkerOp.HasSubstitutes]: async (c) => {
    await readStorePath(c.inp, c.store.storeDir);
    c.logger.startWork();
    c.logger.stopWork();
    c.reply.bool(false);
  },

  [WorkerOp.QuerySubstitutablePaths]: async (c) => {
    await readStorePaths(c.inp, c.store.storeDir);
    c.logger.startWork();
    c.logger.stopWork();
    c.reply.stringSet([]);
  },

  [WorkerOp.QuerySubstitutablePathInfo]: async (c) => {
    await readStorePath(c.inp, c.store.storeDir);
    c.logger.startWork();
    c.logger.stopWork();
    c.reply.u64(0);
  },

  [WorkerOp.QuerySubstitutablePathInfos]: async (c) => {
    if (c.minor < 22) await readStorePaths(c.inp, c.store.storeDir);
    else await c.inp.stringMap(); // path -> optional content address
    c.logger.startWork();
    c.logger.stopWork();
    c.reply.u64(0);
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
    const m = await queryMissing(c.store, targets);
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
