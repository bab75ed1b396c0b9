// The ServeBuilder of a machine's own store: BuildDerivation and BuildPaths run through the local
// build layer (src/build), logs go to the serve session's stderr line by line; or, when that store
// is a daemon, they are the daemon's to run (storeServeBuilder).
import { buildDerivationLocally, type LocalBuildOptions } from '../build/build-one.js';
import { buildOfFailed, exitCodeFor, isSuccess } from '../build/errors.js';
import type { LocalBuildStore } from '../build/local-store-view.js';
import type { ServeBuildOptions } from '../store/serve-protocol.js';
import type { BuildingStore, BuildResult, DerivedPath } from '../store/store.js';
import { parseDerivedPath } from '../store/worker-protocol.js';

/** A worker-protocol minor version below 1.30: derived paths in the StorePathWithOutputs form. */
const STORE_PATH_WITH_OUTPUTS = 29;

import type { ServeBuilder } from './serve.js';

type Opts = ServeBuildOptions & { onLog: (chunk: Uint8Array) => void; signal: AbortSignal };

export function localServeBuilder(store: LocalBuildStore, base: LocalBuildOptions = {}): ServeBuilder {
  const enc = new TextEncoder();
  const buildOpts = (o: Opts): LocalBuildOptions => ({
    ...base,
    maxSilentTime: o.maxSilentTime,
    timeout: o.buildTimeout,
    maxLogSize: o.maxLogSize,
    keepFailed: o.keepFailed,
    onLogLine: (line) => o.onLog(enc.encode(`${line}\n`)),
    // The client streams the log as it comes, so failures do not repeat its last lines (as 2.8).
    logLines: 0,
    signal: o.signal,
  });
  return {
    buildDerivation: (drvPath, drv, o) =>
      buildDerivationLocally(store, drvPath, drv, { ...buildOpts(o), inMemoryDerivation: true }),
    async buildPaths(paths, o) {
      const results = new Map<string, BuildResult>();
      // Depth-first over input derivations, each built once, inputs before their dependents.
      const build = async (drvPath: string): Promise<BuildResult> => {
        const known = results.get(drvPath);
        if (known) return known;
        const drv = store.readDerivation(drvPath);
        for (const input of [...drv.inputDrvs.keys()].sort()) {
          const r = await build(input);
          if (!isSuccess(r)) {
            const failed: BuildResult = {
              ...r,
              status: 10,
              errorMsg: `dependency '${input}' of '${drvPath}' failed`,
            };
            results.set(drvPath, failed);
            return failed;
          }
        }
        const r = await buildDerivationLocally(store, drvPath, drv, buildOpts(o));
        results.set(drvPath, r);
        return r;
      };
      const messages: string[] = [];
      const failed = new Set<string>();
      for (const entry of paths) {
        const bang = entry.indexOf('!');
        const path = bang < 0 ? entry : entry.slice(0, bang);
        if (path.endsWith('.drv') && (bang >= 0 || (await store.isValidPath(path)))) {
          const r = await build(path);
          if (!isSuccess(r)) {
            messages.push(r.errorMsg);
            failed.add(path);
          }
        } else if (!(await store.isValidPath(path))) {
          messages.push(`path '${path}' is not valid`);
          failed.add(path);
          results.set(path, { ...failure, errorMsg: messages.at(-1)! });
        }
      }
      if (messages.length === 0) return { status: 0, message: '' };
      const status = exitCodeFor(results.values()) || 1;
      // As 2.8 sends its exception: "error: " and the one failure, or the failed paths in order.
      return { status, message: `error: ${failed.size === 1 ? messages[0]! : buildOfFailed(failed)}` };
    },
  };
}

const failure: BuildResult = {
  status: 9,
  errorMsg: '',
  timesBuilt: 0,
  isNonDeterministic: false,
  startTime: 0,
  stopTime: 0,
  builtOutputs: new Map(),
};

/** A store that builds on its own (a daemon): what storeServeBuilder needs. */
export interface DelegateBuildStore extends BuildingStore {
  buildPaths(
    paths: DerivedPath[],
    opts?: { onLog?: (line: string) => void },
  ): Promise<{ path: DerivedPath; result: BuildResult }[]>;
}

/**
 * The ServeBuilder of a store that builds by itself — `tix-store --serve` whose store is a running
 * daemon, as `nix-store --serve` with NIX_REMOTE=daemon: builds (and their logs) go to it.
 */
export function storeServeBuilder(store: DelegateBuildStore): ServeBuilder {
  const enc = new TextEncoder();
  return {
    buildDerivation: (drvPath, drv, o) =>
      store.buildDerivation(drvPath, drv, {
        maxSilentTime: o.maxSilentTime,
        buildTimeout: o.buildTimeout,
        maxLogSize: o.maxLogSize,
        keepFailed: o.keepFailed,
        onLog: o.onLog,
      }),
    async buildPaths(paths, o) {
      try {
        // StorePathWithOutputs, as the serve protocol sends them (a bare .drv means "build it").
        const wanted = paths.map((entry) => parseDerivedPath(entry, STORE_PATH_WITH_OUTPUTS, store.storeDir));
        const results = await store.buildPaths(wanted, { onLog: (line) => o.onLog(enc.encode(`${line}\n`)) });
        const failed = results.filter((r) => !isSuccess(r.result));
        if (failed.length === 0) return { status: 0, message: '' };
        return {
          status: exitCodeFor(failed.map((r) => r.result)) || 1,
          message: failed.map((r) => r.result.errorMsg).join('; '),
        };
      } catch (e) {
        if (!(e instanceof Error) || typeof (e as { code?: unknown }).code !== 'string') throw e;
        return { status: 1, message: e.message };
      }
    },
  };
}
