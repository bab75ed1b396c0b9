// addToStoreNar for the local store: unpack the NAR into a temporary name beside the target while
// hashing it, check hash, size and content address, then install (rename + register). On any
// failure the temporary tree is removed and nothing is registered.
import { readFileSync } from 'node:fs';
import { FormatError } from '../formats/errors.js';
import { type Hash, HashSink, hashEquals } from '../formats/hash.js';
import { parseNar } from '../formats/nar-parse.js';
import type { NarSink } from '../formats/nar-types.js';
import { caReproducesPath, HashModuloSink, hashPartOf, parseCa } from './ca-hash.js';
import { StoreError } from './errors.js';
import { removeTreeSync } from './fs-util.js';
import { install, tempEntryPath } from './install.js';
import type { LocalStore } from './local.js';
import { dumpPathSync } from './nar-dump-disk.js';
import { type DiskNarSink, diskNarSink } from './nar-restore-disk.js';
import { normaliseInfo } from './register.js';
import { checkSignatures } from './signatures.js';
import type { AddToStoreOptions, ValidPathInfo } from './store.js';
import { importMismatch, parseNarHash } from './store-paths.js';

async function drain(nar: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const _ of nar);
}

/** Hashes what passes through. */
export async function* tee(
  nar: AsyncIterable<Uint8Array>,
  sinks: { update(chunk: Uint8Array): void }[],
): AsyncGenerator<Uint8Array> {
  for await (const chunk of nar) {
    for (const s of sinks) s.update(chunk);
    yield chunk;
  }
}

/**
 * The hash `info.ca` asserts, computed while the NAR streams past (so a large path is never read
 * back from disk): a flat or text address hashes the root regular file's contents, a recursive one
 * the NAR modulo self-references (that is the narHash itself for sha256 without a self-reference).
 * `finish` returns undefined when the path has no parsable content address (checked later) and
 * throws the same error as checkContentAddress for a flat address over a non-regular root.
 */
function streamingCaHash(
  info: ValidPathInfo,
  sink: DiskNarSink,
): { sink: DiskNarSink; narSinks: HashModuloSink[]; finish: (narHash: Hash) => Hash | undefined } {
  let ca: ReturnType<typeof parseCa> | undefined;
  try {
    ca = info.ca ? parseCa(info.ca) : undefined;
  } catch {
    ca = undefined; // checkContentAddress reports it
  }
  const fail = () =>
    new StoreError(
      'HASH_MISMATCH',
      `cannot add path '${info.path}': content address '${info.ca}' is flat but the object is not a regular file`,
    );
  if (!ca) return { sink, narSinks: [], finish: () => undefined };
  const self = info.references.includes(info.path) ? hashPartOf(info.path) : undefined;
  if (ca.method === 'recursive') {
    if (ca.hash.algo === 'sha256' && !self) return { sink, narSinks: [], finish: (narHash) => narHash };
    const h = new HashModuloSink(ca.hash.algo, self);
    return { sink, narSinks: [h], finish: () => h.finish() };
  }
  const h = new HashSink(ca.hash.algo);
  let rootIsFile = false;
  const wrapped: DiskNarSink = {
    directory: (rel) => sink.directory(rel),
    symlink: (rel, target) => sink.symlink(rel, target),
    finish: () => sink.finish(),
    abort: () => sink.abort(),
    async regular(rel, executable, size) {
      const w = await sink.regular(rel, executable, size);
      if (rel !== '') return w;
      rootIsFile = true;
      return {
        write(chunk) {
          h.update(chunk);
          return w.write(chunk);
        },
        close: () => w.close(),
      };
    },
  };
  return {
    sink: wrapped,
    narSinks: [],
    finish: () => {
      if (!rootIsFile) throw fail();
      return h.finish();
    },
  };
}

/**
 * Checks that the unpacked tree at `real` has the content address `info.ca` claims; `streamed`
 * supplies the hash when it was computed while unpacking (else the tree is read back).
 */
export function checkContentAddress(
  store: LocalStore,
  info: ValidPathInfo,
  real: string,
  streamed?: () => Hash | undefined,
): void {
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
  let actual = streamed?.();
  if (actual === undefined && ca.method === 'recursive') {
    const self = info.references.includes(info.path) ? hashPartOf(info.path) : undefined;
    const h = new HashModuloSink(ca.hash.algo, self);
    for (const chunk of dumpPathSync(real)) h.update(chunk);
    actual = h.finish();
  } else if (actual === undefined) {
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
  if (!hashEquals(actual, ca.hash)) throw importMismatch('ca hash', info.path, ca.hash, actual);
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
  const hash = new HashSink('sha256');
  return withTempEntry(
    store,
    hashPartOf(info.path),
    `cannot add path '${info.path}'`,
    async (sink) => {
      const caHash = streamingCaHash(info, sink);
      const { narSize } = await parseNar(tee(nar, [hash, ...caHash.narSinks]), caHash.sink);
      return { narSize, caHash };
    },
    async (temp, { narSize, caHash }) => {
      const expected = parseNarHash(info.narHash, info.path);
      const got = hash.finish();
      if (!hashEquals(got, expected)) throw importMismatch('hash', info.path, expected, got);
      if (info.narSize !== 0 && info.narSize !== narSize)
        throw importMismatch('size', info.path, info.narSize, narSize);
      checkContentAddress(store, info, temp, () => caHash.finish(got));
      await install(store, temp, { ...info, narSize }, { repair: opts.repair });
    },
  );
}

/**
 * addNarThenInfo for the local store (an import in the nix-store --export format, whose NAR comes
 * before its path): the NAR is unpacked into a temporary tree as it arrives, so memory stays
 * bounded whatever its size; the info read after it is then checked and the tree installed.
 */
export async function addNarThenInfo(
  store: LocalStore,
  receive: (sink: NarSink) => Promise<{ narSize: number; narHash: Hash }>,
  readInfo: (nar: { narSize: number; narHash: Hash }) => Promise<ValidPathInfo>,
  opts: AddToStoreOptions,
): Promise<string> {
  return withTempEntry(store, 'import', 'cannot import a path', receive, async (temp, nar) => {
    const info = normaliseInfo(await readInfo(nar), store.storeDir);
    if (opts.checkSigs) checkSignatures(info, store);
    await store.addTempRoot(info.path);
    if (!opts.repair && store.db.isValid(info.path)) return info.path;
    checkContentAddress(store, info, temp);
    await install(store, temp, info, { repair: opts.repair });
    return info.path;
  });
}

/**
 * A fresh temporary entry in the store named after `hint`: `fill` streams the object into it
 * through its disk sink (a malformed NAR is BAD_NAR, "`what`: …"), then `use` checks and installs
 * it. The entry is removed afterwards whatever happened (installing renames it away first).
 */
export async function withTempEntry<T, R>(
  store: LocalStore,
  hint: string,
  what: string,
  fill: (sink: DiskNarSink) => Promise<T>,
  use: (temp: string, filled: T) => Promise<R>,
): Promise<R> {
  const temp = tempEntryPath(store, hint);
  try {
    const sink = diskNarSink(temp, { fsync: store.fsync });
    let filled: T;
    try {
      filled = await fill(sink);
      sink.finish();
    } catch (e) {
      sink.abort();
      if (e instanceof FormatError) throw new StoreError('BAD_NAR', `${what}: ${e.message}`, { cause: e });
      throw e;
    }
    return await use(temp, filled);
  } finally {
    removeTreeSync(temp);
  }
}
