import { type HashAlgo, HashSink, isHashAlgo } from '../formats/hash.js';
import { narFromBytesTree } from '../formats/nar.js';
import { StoreError } from '../store/errors.js';
import type { Store } from '../store/store.js';
import { assertPathName, contentAddressedInfo, fixedPathOf } from '../store/store-paths.js';

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
    contentAddressedInfo(
      path,
      { hash: narSink.finish(), size: nar.length },
      opts.references,
      { method: opts.method, hash: caHash },
      { registrationTime: Math.floor(Date.now() / 1000) },
    ),
    once(nar),
    { repair: opts.repair },
  );
  return path;
}

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}
