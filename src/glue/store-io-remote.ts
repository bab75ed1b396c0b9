// The EvalIO for evaluation into a store whose files this process does not write itself (a daemon
// over its socket, or over `ssh-ng://`): store paths are computed and remembered as MemoryEvalIO
// does, and when the evaluation is over the paths it added (sources, toFile texts, .drv files)
// are added to the store in the order they were made, so that each one's references are there
// before it. Paths the store already has are skipped. Nix adds each path as it evaluates; the
// store ends up holding the same paths.

import { readFileSync } from 'node:fs';
import { dumpPathSync } from '../eval/fs-nar.js';
import { type AddedPath, MemoryEvalIO } from '../eval/io-memory.js';
import { printContentAddress } from '../formats/content-address.js';
import { type Hash, HashSink, hashBytes, printHash } from '../formats/hash.js';
import { StoreError } from '../store/errors.js';
import { openStore } from '../store/open.js';
import type { Store, ValidPathInfo } from '../store/store.js';

export interface RemoteStoreEvalIOOptions {
  storeUri: string;
  /** The command's settings (name → value as `tix show-config` prints them). */
  settings: Record<string, string>;
  env: Record<string, string | undefined>;
  storeDir: string;
}

/** The NAR of an added source (its filter applied), and the info that makes it content-addressed. */
function sourceNar(a: AddedPath & { kind: 'fs' }): { info: ValidPathInfo; nar: Uint8Array[] } {
  const nar: Uint8Array[] = [];
  const narHash = new HashSink('sha256');
  const sink = {
    update(c: Uint8Array) {
      narHash.update(c);
      nar.push(Uint8Array.from(c));
    },
  };
  dumpPathSync(a.src, sink, a.filter);
  const hash: Hash = a.method === 'flat' ? hashBytes('sha256', readFileSync(a.src)) : narHash.finish();
  const narDigest = a.method === 'flat' ? narHash.finish() : hash;
  return {
    info: {
      path: a.path,
      narHash: printHash(narDigest, 'base16', { prefix: true }),
      narSize: narHash.bytesSeen,
      references: [],
      registrationTime: 0,
      ultimate: false,
      sigs: [],
      ca: printContentAddress({ method: a.method, hash }),
    },
    nar,
  };
}

async function* chunks(list: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* list;
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
  const { info, nar } = sourceNar(a);
  await store.addToStoreNar(info, chunks(nar));
}

/** Entry point for the evaluation worker (src/eval/worker.ts loads modules by URL). */
export function createEvalIO(options: RemoteStoreEvalIOOptions): RemoteStoreEvalIO {
  return new RemoteStoreEvalIO(options);
}
