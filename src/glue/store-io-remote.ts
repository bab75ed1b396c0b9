// The EvalIO for evaluation into a store whose files this process does not write itself (a daemon
// over its socket, or over `ssh-ng://`): store paths are computed and remembered as MemoryEvalIO
// does, and when the evaluation is over the paths it added (sources, toFile texts, .drv files)
// are added to the store in the order they were made, so that each one's references are there
// before it. Paths the store already has are skipped. Nix adds each path as it evaluates; the
// store ends up holding the same paths.

import { type AddedPath, MemoryEvalIO } from '../eval/io-memory.js';
import { type Hash, HashSink } from '../formats/hash.js';
import { StoreError } from '../store/errors.js';
import { dumpPath, dumpPathSync, fileHashSync } from '../store/nar-dump-disk.js';
import { openStore } from '../store/open.js';
import type { Store, ValidPathInfo } from '../store/store.js';
import { contentAddressedInfo } from '../store/store-paths.js';

export interface RemoteStoreEvalIOOptions {
  storeUri: string;
  /** The command's settings (name → value as `tix show-config` prints them). */
  settings: Record<string, string>;
  env: Record<string, string | undefined>;
  storeDir: string;
}

/**
 * The info that makes an added source (its filter applied) content-addressed. The NAR is read
 * once here to hash it, and again as it streams to the store, so that no source, however large,
 * is held in memory.
 */
function sourceInfo(a: AddedPath & { kind: 'fs' }): ValidPathInfo {
  const narHash = new HashSink('sha256');
  for (const chunk of dumpPathSync(a.src, { filter: a.filter })) narHash.update(chunk);
  const narDigest = narHash.finish();
  const hash: Hash = a.method === 'flat' ? fileHashSync(a.src) : narDigest;
  return contentAddressedInfo(a.path, { hash: narDigest, size: narHash.bytesSeen }, [], {
    method: a.method,
    hash,
  });
}

export class RemoteStoreEvalIO extends MemoryEvalIO {
  readonly #opts: RemoteStoreEvalIOOptions;

  constructor(opts: RemoteStoreEvalIOOptions) {
    super({ storeDir: opts.storeDir });
    this.#opts = opts;
  }

  async finish(): Promise<void> {
    if (this.added.length === 0) return;
    const store = await openStore(this.#opts.storeUri, {
      settings: this.#opts.settings,
      env: this.#opts.env,
    });
    try {
      const have = await store.queryValidPaths(this.added.map((a) => a.path));
      for (const a of this.added) {
        if (have.has(a.path)) continue;
        await addOne(store, a);
      }
    } finally {
      await store.close();
    }
  }
}

async function addOne(store: Store, a: AddedPath): Promise<void> {
  if (a.kind === 'text') {
    const got = await store.addTextToStore(a.name, a.text, a.references);
    if (got !== a.path)
      throw new StoreError('BAD_INFO', `store '${store.uri}' added '${a.name}' as '${got}', not '${a.path}'`);
    return;
  }
  await store.addToStoreNar(sourceInfo(a), dumpPath(a.src, { filter: a.filter }));
}

/** Entry point for the evaluation worker (src/eval/worker.ts loads modules by URL). */
export function createEvalIO(options: RemoteStoreEvalIOOptions): RemoteStoreEvalIO {
  return new RemoteStoreEvalIO(options);
}
