// The entry point of the bundle that bin/tix, bin/tix-store and bin/tix-daemon run
// (dist/bin/tix.cjs, made by scripts/bundle.mjs and started by ./bundle-start.ts). Every
// executable and every module loaded by URL at run time is reached from here through import(), so
// each one's code is initialised only when used: `tix eval` does not load the store or the server.
import type { BundleExports } from './bundle-start.js';
import { extractGlobalOptions } from './process.js';
import { findCommand } from './tix.js';

type Main = { main(argv: string[]): void };

const executables: Record<string, () => Promise<Main>> = {
  tix: () => import('./tix.js'),
  'tix-store': () => import('./tix-store.js'),
  'tix-daemon': () => import('./tix-daemon.js'),
};

export const run: BundleExports['run'] = async (exe, argv) => {
  const load = executables[exe];
  if (!load) throw new Error(`tix bundle: unknown executable '${exe}'`);
  (await load()).main(argv);
};

/**
 * Which part of the code a run uses, for the code cache: the `tix` command (e.g. "store add"),
 * '' for everything else. Always one of a fixed set of names, whatever argv holds.
 */
export const cacheKey: BundleExports['cacheKey'] = (exe, argv) =>
  exe === 'tix' ? (findCommand(extractGlobalOptions(argv).rest)?.entry.name.join(' ') ?? '') : '';

/** src/glue/store-io.ts, for dist/bin/store-io.js (the URL src/glue/instantiate.ts hands out). */
export const storeIO = () => import('../glue/store-io.js');

/** src/glue/store-io-remote.ts, for dist/bin/store-io-remote.js (the same, for a daemon's store). */
export const storeIORemote = () => import('../glue/store-io-remote.js');

/** src/eval/worker.ts, which runs its worker half when this bundle is a worker's main script. */
export const evalWorker = () => import('../eval/worker.js');
