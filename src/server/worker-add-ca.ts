// Nix's addToStoreFromDump: a content-addressed object from its serialisation (a NAR for
// recursive ingestion, the file's bytes for flat), as `nix-store --add`, `builtins.path` and
// `builtins.toFile` send it to a daemon, for stores without their own streamed addToStoreFromDump
// (a local store has one: store/add-dump.ts). The dump is held in memory while it is hashed.
import { printContentAddress } from '../formats/content-address.js';
import { type HashAlgo, HashSink, isHashAlgo, printHash } from '../formats/hash.js';
import { narFromBytesTree } from '../formats/nar.js';
import { fixedPathOf } from '../store/add-dump.js';
import { StoreError } from '../store/errors.js';
import type { Store } from '../store/store.js';
import { assertPathName } from '../store/store-paths.js';

/** A ContentAddressMethod string of AddToStore ≥ 1.25: "text:sha256", "fixed:r:sha256", "fixed:sha1". */
export type CaMethod = { method: 'text' } | { method: 'flat' | 'recursive'; algo: HashAlgo };

export function parseCaMethod(s: string): CaMethod {
  if (s === 'text:sha256') return { method: 'text' };
  const m = /^fixed:(r:)?([a-z0-9]+)$/.exec(s);
  if (m && isHashAlgo(m[2]!)) return { method: m[1] ? 'recursive' : 'flat', algo: m[2] };
  throw new StoreError('BAD_INFO', `cannot parse content-address method '${s}'`);
}

export async function addToStoreFromDump(
  store: Store,
  dump: Uint8Array,
  opts: { name: string; method: 'flat' | 'recursive'; algo: HashAlgo; references: string[]; repair: boolean },
): Promise<string> {
  assertPathName(opts.name);
  const caSink = new HashSink(opts.algo);
  caSink.update(dump);
  const caHash = caSink.finish();
  const nar =
    opts.method === 'recursive' ? dump : await narFromBytesTree({ type: 'regular', contents: dump });
  const narSink = new HashSink('sha256');
  narSink.update(nar);
  const path = fixedPathOf(opts, caHash, store.storeDir);
  await store.addToStoreNar(
    {
      path,
      narHash: printHash(narSink.finish(), 'base16', { prefix: true }),
      narSize: nar.length,
      references: opts.references,
      registrationTime: Math.floor(Date.now() / 1000),
      ultimate: true,
      sigs: [],
      ca: printContentAddress({ method: opts.method, hash: caHash }),
    },
    once(nar),
    { repair: opts.repair },
  );
  return path;
}

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}
