import { type Hash, HashSink } from '../formats/hash.js';
import { parseNar } from '../formats/nar-parse.js';
import { tee, withTempEntry } from './add-nar.js';
import { install } from './install.js';
import type { LocalStore } from './local.js';
import { narHashSync } from './nar-dump-disk.js';
import type { DiskNarSink } from './nar-restore-disk.js';
import { normaliseInfo } from './register.js';
import type { AddFromDumpOptions } from './store.js';
import { assertPathName, contentAddressedInfo, fixedPathOf } from './store-paths.js';

export async function addDumpToStore(
  store: LocalStore,
  dump: AsyncIterable<Uint8Array>,
  opts: AddFromDumpOptions,
): Promise<string> {
  assertPathName(opts.name);
  const caSink = new HashSink(opts.algo);
  // The NAR's own sha256, when it is not the content hash itself (recursive sha256).
  const narSink = opts.method === 'recursive' && opts.algo !== 'sha256' ? new HashSink('sha256') : undefined;
  // Streams the dump in; the NAR's size when it was parsed (a flat file's is read back below).
  const fill = async (sink: DiskNarSink): Promise<number> => {
    if (opts.method === 'recursive') {
      return (await parseNar(tee(dump, narSink ? [caSink, narSink] : [caSink]), sink)).narSize;
    }
    const w = await sink.regular('', false, 0);
    for await (const chunk of dump) {
      caSink.update(chunk);
      await w.write(chunk);
    }
    await w.close();
    return 0;
  };
  return withTempEntry(store, 'dump', `cannot add '${opts.name}' to the store`, fill, async (temp, size) => {
    const caHash = caSink.finish();
    let narHash: Hash;
    let narSize = size;
    if (opts.method === 'flat') {
      // A flat object's NAR wraps the file's bytes: read back once, now that its size is known.
      ({ hash: narHash, size: narSize } = narHashSync(temp));
    } else narHash = narSink ? narSink.finish() : caHash;
    const path = fixedPathOf(opts, caHash, store.storeDir);
    const info = normaliseInfo(
      contentAddressedInfo(
        path,
        { hash: narHash, size: narSize },
        opts.references,
        { method: opts.method, hash: caHash },
        { registrationTime: Math.floor(Date.now() / 1000) },
      ),
      store.storeDir,
    );
    await store.addTempRoot(path);
    if (!opts.repair && store.db.isValid(path)) return path;
    await install(store, temp, info, { repair: opts.repair });
    return path;
  });
}
