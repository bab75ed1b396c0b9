// addToStoreFromDump for the local store, streamed (as Nix's LocalStore::addToStoreFromDump, which
// a daemon runs for AddToStore: `nix-store --add`, `builtins.path` and sources of a Nix client).
// The dump is a NAR for recursive ingestion — unpacked as it arrives, its sha256 and its content
// hash taken on the way — or a file's bytes for flat — written as they arrive, its NAR hash read
// back from the file. The path depends on the content hash, so it is known only at the end: the
// tree waits in a temporary entry, then is installed. Memory stays bounded whatever the size.
import { FormatError } from '../formats/errors.js';
import { type Hash, HashSink } from '../formats/hash.js';
import { parseNar } from '../formats/nar-parse.js';
import { tee } from './add-nar.js';
import { StoreError } from './errors.js';
import { removeTreeSync } from './fs-util.js';
import { install, tempEntryPath } from './install.js';
import type { LocalStore } from './local.js';
import { narHashSync } from './nar-dump-disk.js';
import { diskNarSink } from './nar-restore-disk.js';
import { normaliseInfo } from './register.js';
import type { AddFromDumpOptions } from './store.js';
import { assertPathName, contentAddressedInfo, fixedPathOf } from './store-paths.js';

export async function addDumpToStore(
  store: LocalStore,
  dump: AsyncIterable<Uint8Array>,
  opts: AddFromDumpOptions,
): Promise<string> {
  assertPathName(opts.name);
  const temp = tempEntryPath(store, 'dump');
  try {
    const sink = diskNarSink(temp, { fsync: store.fsync });
    const caSink = new HashSink(opts.algo);
    // The NAR's own sha256, when it is not the content hash itself (recursive sha256).
    const narSink =
      opts.method === 'recursive' && opts.algo !== 'sha256' ? new HashSink('sha256') : undefined;
    let narSize = 0;
    try {
      if (opts.method === 'recursive') {
        ({ narSize } = await parseNar(tee(dump, narSink ? [caSink, narSink] : [caSink]), sink));
      } else {
        const w = await sink.regular('', false, 0);
        for await (const chunk of dump) {
          caSink.update(chunk);
          await w.write(chunk);
        }
        await w.close();
      }
      sink.finish();
    } catch (e) {
      sink.abort();
      if (e instanceof FormatError) {
        throw new StoreError('BAD_NAR', `cannot add '${opts.name}' to the store: ${e.message}`, { cause: e });
      }
      throw e;
    }
    const caHash = caSink.finish();
    let narHash: Hash;
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
        { ultimate: true, registrationTime: Math.floor(Date.now() / 1000) },
      ),
      store.storeDir,
    );
    await store.addTempRoot(path);
    if (!opts.repair && store.db.isValid(path)) return path;
    await install(store, temp, info, { repair: opts.repair });
    return path;
  } finally {
    removeTreeSync(temp);
  }
}
