// Worker-protocol roots and garbage collection, verification and optimisation.
import { isAbsolute } from 'node:path';
import { StoreError } from '../store/errors.js';
import { optimiseSummary } from '../store/optimise.js';
import { readStorePath, readStorePaths, Verbosity, WorkerOp } from '../store/worker-protocol.js';
import { need, type WorkerConn } from './worker-context.js';

type Op = (c: WorkerConn) => Promise<void>;

const GC_ACTIONS = ['returnLive', 'returnDead', 'deleteDead', 'deleteSpecific'] as const;

export const gcOps: Record<number, Op> = {
  [WorkerOp.AddTempRoot]: async (c) => {
    const path = await readStorePath(c.inp, c.store.storeDir);
    c.logger.startWork();
    await c.store.addTempRoot(path);
    c.logger.stopWork();
    c.reply.u64(1);
  },

  [WorkerOp.AddIndirectRoot]: async (c) => {
    const link = await c.inp.string(4096);
    c.logger.startWork();
    if (!isAbsolute(link))
      throw new StoreError('BAD_PATH', `indirect root '${link}' is not an absolute path`);
    await need(c.store, 'addIndirectRoot')(link);
    c.logger.stopWork();
    c.reply.u64(1);
  },

  [WorkerOp.SyncWithGC]: async (c) => {
    c.logger.startWork();
    c.logger.stopWork();
    c.reply.u64(1);
  },

  [WorkerOp.FindRoots]: async (c) => {
    c.logger.startWork();
    const roots = await need(c.store, 'findRoots')();
    c.logger.stopWork();
    c.reply.u64(roots.size);
    // Untrusted clients do not learn which processes use which paths (Nix's censor flag).
    for (const [link, path] of roots)
      c.reply.string(!c.trusted && link.startsWith('/proc/') ? '{censored}' : link).string(path);
  },

  [WorkerOp.CollectGarbage]: async (c) => {
    const actionNo = await c.inp.u64();
    const paths = await readStorePaths(c.inp, c.store.storeDir);
    const ignoreLiveness = await c.inp.bool();
    const maxFreed = await c.inp.u64big();
    for (let i = 0; i < 3; i++) await c.inp.u64(); // obsolete fields
    c.logger.startWork();
    const action = GC_ACTIONS[actionNo];
    if (action === undefined)
      throw new StoreError('BAD_INFO', `unknown garbage collector action ${actionNo}`);
    if (ignoreLiveness) throw new StoreError('GC', 'you are not allowed to ignore liveness');
    const res = await need(
      c.store,
      'collectGarbage',
    )({
      action,
      paths,
      maxFreed: maxFreed >= BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(maxFreed),
      // The progress lines go to the client, as nix-daemon's do.
      log: (line) => c.logger.log(Verbosity.Info, line),
    });
    c.logger.stopWork();
    c.reply.strings(res.paths).u64(res.bytesFreed).u64(0);
  },

  [WorkerOp.OptimiseStore]: async (c) => {
    c.logger.startWork();
    const stats = await need(c.store, 'optimiseStore')();
    // What it freed goes to the client, as nix-daemon's optimiseStore prints it.
    if (stats) c.logger.log(Verbosity.Info, optimiseSummary(stats));
    c.logger.stopWork();
    c.reply.u64(1);
  },

  [WorkerOp.VerifyStore]: async (c) => {
    const checkContents = await c.inp.bool();
    const repair = await c.inp.bool();
    c.logger.startWork();
    if (repair && !c.trusted) throw new StoreError('UNTRUSTED', 'you are not privileged to repair paths');
    // Its messages go to the client as they come, as nix-daemon's do.
    const { errors } = await need(
      c.store,
      'verifyStore',
    )({
      checkContents,
      repair,
      log: (line, level) => c.logger.log(level === 'error' ? Verbosity.Error : Verbosity.Info, line),
    });
    c.logger.stopWork();
    c.reply.bool(errors.length > 0);
  },
};
