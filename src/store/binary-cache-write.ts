// Writing one path to a binary cache: compress the NAR into a staging file while hashing both the
// NAR and the compressed bytes, check the NAR against the path info, move the file to
// nar/<nix32 file hash>.nar<ext>, and only then write the (signed) narinfo.
import { open, rm } from 'node:fs/promises';
import { HashSink, hashEquals, printHash } from '../formats/hash.js';
import { fingerprint, type NarInfo, printNarInfo } from '../formats/narinfo.js';
import { signFingerprint } from '../formats/signing.js';
import type { BinaryCacheStore } from './binary-cache.js';
import { MIME } from './binary-cache-transport.js';
import { hashPartOf } from './ca-hash.js';
import { compress, narFileExtension } from './compression.js';
import { StoreError } from './errors.js';
import type { ValidPathInfo } from './store.js';
import { parseNarHash } from './store-paths.js';

/** The Store view of a narinfo ("sha256:<base16>" hash, as the database keeps it). */
export function narInfoToPathInfo(info: NarInfo): ValidPathInfo {
  const out: ValidPathInfo = {
    path: info.storePath,
    narHash: printHash(info.narHash, 'base16', { prefix: true }),
    narSize: info.narSize,
    references: [...info.references],
    registrationTime: 0,
    ultimate: false,
    sigs: [...info.sigs],
  };
  if (info.deriver) out.deriver = info.deriver;
  if (info.ca) out.ca = info.ca;
  return out;
}

async function* tee(input: AsyncIterable<Uint8Array>, sink: HashSink): AsyncGenerator<Uint8Array> {
  for await (const chunk of input) {
    sink.update(chunk);
    yield chunk;
  }
}

/** Writes `info`'s NAR and narinfo to the cache; returns the narinfo written. */
export async function writeToBinaryCache(
  store: BinaryCacheStore,
  info: ValidPathInfo,
  nar: AsyncIterable<Uint8Array>,
): Promise<NarInfo> {
  const staged = store.transport.stagingFile();
  const narSink = new HashSink('sha256');
  const fileSink = new HashSink('sha256');
  const method = store.compression;
  let moved = false;
  try {
    const fh = await open(staged, 'w');
    try {
      const compressed = compress(method, tee(nar, narSink), {
        level: store.compressionLevel,
        parallel: store.parallelCompression,
      });
      for await (const chunk of compressed) {
        fileSink.update(chunk);
        await fh.write(chunk);
      }
    } finally {
      await fh.close();
    }
    const narHash = narSink.finish();
    const expected = parseNarHash(info.narHash, info.path);
    if (!hashEquals(narHash, expected)) {
      throw new StoreError(
        'HASH_MISMATCH',
        `cannot add path '${info.path}' to binary cache '${store.uri}': hash mismatch, expected '${printHash(expected, 'nix32', { prefix: true })}', got '${printHash(narHash, 'nix32', { prefix: true })}'`,
      );
    }
    if (info.narSize !== 0 && info.narSize !== narSink.bytesSeen) {
      throw new StoreError(
        'HASH_MISMATCH',
        `cannot add path '${info.path}' to binary cache '${store.uri}': size mismatch, expected ${info.narSize} bytes, got ${narSink.bytesSeen}`,
      );
    }
    const fileHash = fileSink.finish();
    const url = `nar/${printHash(fileHash, 'nix32')}.nar${narFileExtension(method)}`;
    moved = true;
    await store.transport.putStaged(staged, url, MIME.nar);
    const narInfo: NarInfo = {
      storePath: info.path,
      url,
      compression: method,
      fileHash,
      fileSize: fileSink.bytesSeen,
      narHash,
      narSize: narSink.bytesSeen,
      references: info.references,
      sigs: [...info.sigs],
    };
    if (info.deriver) narInfo.deriver = info.deriver;
    if (info.ca) narInfo.ca = info.ca;
    if (store.secretKeys.length > 0) {
      const fp = fingerprint(info.path, narHash, narInfo.narSize, info.references);
      narInfo.sigs = [...new Set([...narInfo.sigs, ...store.secretKeys.map((k) => signFingerprint(k, fp))])];
    }
    await store.transport.put(`${hashPartOf(info.path)}.narinfo`, printNarInfo(narInfo), MIME.narinfo);
    return narInfo;
  } finally {
    if (!moved) await rm(staged, { force: true });
  }
}
