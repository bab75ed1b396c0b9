// Adding a file or directory from the file system to any Store, content-addressed as
// `nix-store --add` (recursive, sha256) and `nix-store --add-fixed` do. Works on every backend:
// the NAR is hashed in a first pass and streamed to `addToStoreNar` in a second.
import { createReadStream, lstatSync } from 'node:fs';
import { basename } from 'node:path';
import { printContentAddress } from '../formats/content-address.js';
import { type HashAlgo, HashSink, printHash } from '../formats/hash.js';
import { makeFixedOutputPath } from '../formats/store-path.js';
import { StoreError } from '../store/errors.js';
import { dumpPath } from '../store/nar-dump-disk.js';
import type { Store, ValidPathInfo } from '../store/store.js';
import { sysError } from './cli-error.js';

export interface AddPathOptions {
  method: 'flat' | 'recursive';
  hashAlgo: HashAlgo;
  /** Store path name; default the base name of the source. */
  name?: string;
}

/** Adds `srcPath` and returns its info (also when it was already valid). */
export async function addPathToStore(
  store: Store,
  srcPath: string,
  opts: AddPathOptions,
): Promise<ValidPathInfo> {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(srcPath);
  } catch (e) {
    throw sysError(`getting status of '${srcPath}'`, e);
  }
  if (opts.method === 'flat' && !st.isFile()) {
    throw new StoreError(
      'UNSUPPORTED',
      `cannot add '${srcPath}' with flat hashing: it is not a regular file`,
    );
  }
  const narSink = new HashSink('sha256');
  for await (const chunk of dumpPath(srcPath)) narSink.update(chunk);
  const narHash = narSink.finish();
  let caHash = narHash;
  if (opts.method === 'flat') {
    const h = new HashSink(opts.hashAlgo);
    for await (const chunk of createReadStream(srcPath)) h.update(chunk as Buffer);
    caHash = h.finish();
  } else if (opts.hashAlgo !== 'sha256') {
    const h = new HashSink(opts.hashAlgo);
    for await (const chunk of dumpPath(srcPath)) h.update(chunk);
    caHash = h.finish();
  }
  const ca = { method: opts.method, hash: caHash } as const;
  const name = opts.name ?? basename(srcPath);
  const path = makeFixedOutputPath(name, ca, { storeDir: store.storeDir });
  const existing = await store.queryPathInfo(path);
  if (existing) return existing;
  const info: ValidPathInfo = {
    path,
    narHash: printHash(narHash, 'base16', { prefix: true }),
    narSize: narSink.bytesSeen,
    references: [],
    registrationTime: Math.floor(Date.now() / 1000),
    ultimate: false,
    sigs: [],
    ca: printContentAddress(ca),
  };
  await store.addToStoreNar(info, dumpPath(srcPath));
  return (await store.queryPathInfo(path)) ?? info;
}
