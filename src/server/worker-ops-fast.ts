// The commonest queries answered in the turn their request arrives: when the request is wholly
// buffered and the store answers synchronously (LocalStore's *Sync methods, one SQLite statement),
// the reply is built without awaiting anything. Otherwise the ordinary handler in
// worker-ops-query.ts runs; both produce the same bytes and the same errors.
import type { ValidPathInfo } from '../store/store.js';
import { assertStorePath } from '../store/store-paths.js';
import { WorkerOp } from '../store/worker-protocol.js';
import type { DaemonStore, WorkerConn } from './worker-context.js';
import { replyPathInfo } from './worker-ops-query.js';

/** Synchronous lookups of a store (LocalStore has them). */
export interface SyncQueries {
  isValidPathSync(path: string): boolean;
  queryPathInfoSync(path: string): ValidPathInfo | undefined;
  queryValidPathsSync(paths: Iterable<string>): Set<string>;
}

/** Serves the operation whose opcode was just read, if its arguments are buffered; else false. */
export type FastOp = (c: WorkerConn) => boolean;

function hasSyncQueries(store: DaemonStore): store is DaemonStore & SyncQueries {
  const s = store as Partial<SyncQueries>;
  return (
    typeof s.isValidPathSync === 'function' &&
    typeof s.queryPathInfoSync === 'function' &&
    typeof s.queryValidPathsSync === 'function'
  );
}

/** The fast operations `store` allows (none unless it answers synchronously). */
export function fastOps(store: DaemonStore): Record<number, FastOp | undefined> {
  if (!hasSyncQueries(store)) return {};
  const storeDir = store.storeDir;
  const readPath = (c: WorkerConn): string | undefined => {
    const path = c.inp.trySync(() => c.inp.stringSync());
    if (path !== undefined) assertStorePath(path, storeDir);
    return path;
  };
  return {
    [WorkerOp.QueryPathInfo]: (c) => {
      const path = readPath(c);
      if (path === undefined) return false;
      c.logger.startWork();
      replyPathInfo(c, path, store.queryPathInfoSync(path));
      return true;
    },

    [WorkerOp.IsValidPath]: (c) => {
      const path = readPath(c);
      if (path === undefined) return false;
      c.logger.startWork();
      const valid = store.isValidPathSync(path);
      c.logger.stopWork();
      c.reply.bool(valid);
      return true;
    },

    [WorkerOp.QueryValidPaths]: (c) => {
      const paths = c.inp.trySync(() => {
        const list = c.inp.stringsSync();
        if (!list || c.minor < 27) return list;
        const substitute = c.inp.boolSync();
        // Substituting first is the ordinary handler's work: leave the request to it.
        if (substitute === undefined || (substitute && c.substituters && c.settings.useSubstitutes))
          return undefined;
        return list;
      });
      if (paths === undefined) return false;
      for (const p of paths) assertStorePath(p, storeDir);
      c.logger.startWork();
      const valid = store.queryValidPathsSync(paths);
      c.logger.stopWork();
      c.reply.stringSet(valid);
      return true;
    },
  };
}
