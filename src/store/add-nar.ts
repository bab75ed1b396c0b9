// addToStoreNar for the local store: unpack the NAR into a temporary name beside the target while
// hashing it, check hash, size and content address, then install (rename + register). On any
// failure the temporary tree is removed and nothing is registered.
import { readFileSync } from 'node:fs';
import { FormatError } from '../formats/errors.js';
import { HashSink, hashEquals, printHash } from '../formats/hash.js';
import { parseNar } from '../formats/nar-parse.js';
import { caReproducesPath, HashModuloSink, hashPartOf, parseCa } from './ca-hash.js';
import { StoreError } from './errors.js';
import { removeTreeSync } from './fs-util.js';
import { install, tempEntryPath } from './install.js';
import type { LocalStore } from './local.js';
import { dumpPathSync } from './nar-dump-disk.js';
import { diskNarSink } from './nar-restore-disk.js';
import { normaliseInfo } from './register.js';
import { checkSignatures } from './signatures.js';
import type { AddToStoreOptions, ValidPathInfo } from './store.js';
import { parseNarHash } from './store-paths.js';

async function drain(nar: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const _ of nar);
}

/** Hashes what passes through. */
async function* tee(nar: AsyncIterable<Uint8Array>, sink: HashSink): AsyncGenerator<Uint8Array> {
  for await (const chunk of nar) {
    sink.update(chunk);
    yield chunk;
  }
}

/** Checks that the unpacked tree at `real` has the content address `info.ca` claims. */
export function checkContentAddress(store: LocalStore, info: ValidPathInfo, real: string): void {
  if (!info.ca) return;
  const fail = (detail: string) =>
    new StoreError('HASH_MISMATCH', `cannot add path '${info.path}': content address '${info.ca}' ${detail}`);
  let ca: ReturnType<typeof parseCa>;
  try {
    ca = parseCa(info.ca);
  } catch (e) {
    throw new StoreError('BAD_INFO', `cannot add path '${info.path}': ${(e as Error).message}`, { cause: e });
  }
  if (!caReproducesPath(info.path, ca, info.references, store.storeDir))
    throw fail('does not match the store path');
  let actual: ReturnType<HashSink['finish']>;
  if (ca.method === 'recursive') {
    const self = info.references.includes(info.path) ? hashPartOf(info.path) : undefined;
    const h = new HashModuloSink(ca.hash.algo, self);
    for (const chunk of dumpPathSync(real)) h.update(chunk);
    actual = h.finish();
  } else {
    let contents: Buffer;
    try {
      contents = readFileSync(real);
    } catch {
      throw fail('is flat but the object is not a regular file');
    }
    const h = new HashSink(ca.hash.algo);
    h.update(contents);
    actual = h.finish();
  }
  if (!hashEquals(actual, ca.hash))
    throw fail(`does not match the contents (got '${printHash(actual, 'nix32', { prefix: true })}')`);
}

export async function addToStoreNar(
  store: LocalStore,
  rawInfo: ValidPathInfo,
  nar: AsyncIterable<Uint8Array>,
  opts: AddToStoreOptions,
): Promise<void> {
  const info = normaliseInfo(rawInfo, store.storeDir);
  if (opts.checkSigs) checkSignatures(info, store);
  await store.addTempRoot(info.path);
  if (!opts.repair && store.db.isValid(info.path)) return drain(nar);
  const temp = tempEntryPath(store, hashPartOf(info.path));
  try {
    const hash = new HashSink('sha256');
    const sink = diskNarSink(temp, { fsync: store.fsync });
    let narSize: number;
    try {
      ({ narSize } = await parseNar(tee(nar, hash), sink));
      sink.finish();
    } catch (e) {
      sink.abort();
      if (e instanceof FormatError) {
        throw new StoreError('BAD_NAR', `cannot add path '${info.path}': ${e.message}`, { cause: e });
      }
      throw e;
    }
    const expected = parseNarHash(info.narHash, info.path);
    const got = hash.finish();
    if (!hashEquals(got, expected)) {
      throw new StoreError(
        'HASH_MISMATCH',
        `cannot add path '${info.path}': hash mismatch, expected '${printHash(expected, 'nix32', { prefix: true })}', got '${printHash(got, 'nix32', { prefix: true })}'`,
      );
    }
    if (info.narSize !== 0 && info.narSize !== narSize) {
      throw new StoreError(
        'HASH_MISMATCH',
        `cannot add path '${info.path}': size mismatch, expected ${info.narSize} bytes, got ${narSize}`,
      );
    }
    checkContentAddress(store, info, temp);
    await install(store, temp, { ...info, narSize }, { repair: opts.repair });
  } finally {
    removeTreeSync(temp);
  }
}
