// BinaryCacheStore: a Nix binary cache (file:// directory or http(s):// server) as a Store.
// Layout (Nix 2.8): nix-cache-info, <hashpart>.narinfo, nar/<nix32 file hash>.nar<ext>. Reading
// decompresses on the fly and checks FileHash/FileSize when the cache states them; writing puts the
// NAR in place before its narinfo, so a reader never sees a narinfo whose NAR is missing.
import { derivationName, isDerivationPath, parseDerivation } from '../formats/derivation.js';
import { FormatError } from '../formats/errors.js';
import { HashSink, hashEquals } from '../formats/hash.js';
import { narTreeSink } from '../formats/nar.js';
import { parseNar } from '../formats/nar-parse.js';
import {
  type NarInfo,
  type NixCacheInfo,
  parseNarInfo,
  parseNixCacheInfo,
  printNixCacheInfo,
} from '../formats/narinfo.js';
import type { SecretKey } from '../formats/signing.js';
import { addTextAsNar } from './add-text-nar.js';
import { type CacheTransport, MIME } from './binary-cache-transport.js';
import { narInfoToPathInfo, writeToBinaryCache } from './binary-cache-write.js';
import { hashPartOf } from './ca-hash.js';
import { type CompressionMethod, decompress } from './compression.js';
import { StoreError } from './errors.js';
import { NarInfoCache } from './narinfo-cache.js';
import { normaliseInfo } from './register.js';
import type { AddToStoreOptions, Store, ValidPathInfo } from './store.js';
import { assertStorePath } from './store-paths.js';

export interface BinaryCacheStoreOptions {
  /** The URI to report (with parameters). */
  uri?: string;
  storeDir?: string;
  /** How NARs are written (default "xz", as Nix). */
  compression?: CompressionMethod;
  compressionLevel?: number;
  parallelCompression?: boolean;
  /** Keys that sign every path written. */
  secretKeys?: SecretKey[];
  /** Overrides of what nix-cache-info says. */
  priority?: number;
  wantMassQuery?: boolean;
  narinfoPositiveTtl?: number;
  narinfoNegativeTtl?: number;
}

export class BinaryCacheStore implements Store {
  readonly uri: string;
  readonly storeDir: string;
  readonly transport: CacheTransport;
  readonly compression: CompressionMethod;
  readonly compressionLevel: number;
  readonly parallelCompression: boolean;
  readonly secretKeys: SecretKey[];
  readonly narInfoCache: NarInfoCache;
  /** From nix-cache-info (after init), with URI overrides applied. */
  priority = 50;
  wantMassQuery = false;
  readonly #opts: BinaryCacheStoreOptions;

  constructor(transport: CacheTransport, opts: BinaryCacheStoreOptions = {}) {
    this.transport = transport;
    this.#opts = opts;
    this.uri = opts.uri ?? transport.uri;
    this.storeDir = opts.storeDir ?? '/nix/store';
    this.compression = opts.compression ?? 'xz';
    this.compressionLevel = opts.compressionLevel ?? -1;
    this.parallelCompression = opts.parallelCompression ?? false;
    this.secretKeys = opts.secretKeys ?? [];
    this.narInfoCache = new NarInfoCache({
      positiveTtl: opts.narinfoPositiveTtl,
      negativeTtl: opts.narinfoNegativeTtl,
    });
  }

  /**
   * Reads nix-cache-info (creating it when `create` and it is missing, as Nix does for caches it
   * writes) and checks that the cache is for this store dir.
   */
  async init(opts: { create: boolean }): Promise<void> {
    const text = await this.transport.get('nix-cache-info');
    let info: NixCacheInfo;
    if (text === undefined) {
      if (!opts.create)
        throw new StoreError('BAD_URI', `'${this.transport.uri}' does not appear to be a binary cache`);
      info = { storeDir: this.storeDir };
      await this.transport.put('nix-cache-info', printNixCacheInfo(info), MIME.cacheInfo);
    } else {
      try {
        info = parseNixCacheInfo(text.toString());
      } catch (e) {
        throw new StoreError(
          'BAD_URI',
          `cannot open binary cache '${this.transport.uri}': ${(e as Error).message}`,
          { cause: e },
        );
      }
    }
    if (info.storeDir !== undefined && info.storeDir !== this.storeDir) {
      throw new StoreError(
        'BAD_URI',
        `binary cache '${this.transport.uri}' is for Nix stores with prefix '${info.storeDir}', not '${this.storeDir}'`,
      );
    }
    this.priority = this.#opts.priority ?? info.priority ?? 50;
    this.wantMassQuery = this.#opts.wantMassQuery ?? info.wantMassQuery ?? false;
  }

  /** The narinfo of `path`, or undefined when the cache lacks it. */
  async queryNarInfo(path: string): Promise<NarInfo | undefined> {
    assertStorePath(path, this.storeDir);
    const hashPart = hashPartOf(path);
    const known = this.narInfoCache.lookup(hashPart);
    if (known) return known.info?.storePath === path ? known.info : undefined;
    const rel = `${hashPart}.narinfo`;
    const text = await this.transport.get(rel);
    let info: NarInfo | undefined;
    if (text !== undefined) {
      try {
        info = parseNarInfo(text.toString(), {
          storeDir: this.storeDir,
          where: `${this.transport.uri}/${rel}`,
        });
      } catch (e) {
        if (e instanceof FormatError) throw new StoreError('BAD_INFO', e.message, { cause: e });
        throw e;
      }
      if (hashPartOf(info.storePath) !== hashPart) {
        throw new StoreError(
          'BAD_INFO',
          `narinfo '${this.transport.uri}/${rel}' is for '${info.storePath}', not '${path}'`,
        );
      }
    }
    this.narInfoCache.remember(hashPart, info);
    return info?.storePath === path ? info : undefined;
  }

  async isValidPath(path: string): Promise<boolean> {
    return (await this.queryNarInfo(path)) !== undefined;
  }

  async queryValidPaths(paths: Iterable<string>): Promise<Set<string>> {
    const list = [...new Set(paths)];
    const found = await Promise.all(list.map((p) => this.isValidPath(p)));
    return new Set(list.filter((_, i) => found[i]));
  }

  async queryPathInfo(path: string): Promise<ValidPathInfo | undefined> {
    const info = await this.queryNarInfo(path);
    return info ? narInfoToPathInfo(info) : undefined;
  }

  async queryReferrers(path: string): Promise<string[]> {
    throw new StoreError(
      'UNSUPPORTED',
      `cannot query the referrers of '${path}': binary cache '${this.uri}' does not record them`,
    );
  }

  async queryDerivationOutputMap(drvPath: string): Promise<Map<string, string>> {
    if (!isDerivationPath(drvPath)) throw new StoreError('BAD_PATH', `path '${drvPath}' is not a derivation`);
    const sink = narTreeSink();
    await parseNar(this.narFromPath(drvPath), sink);
    const root = sink.root();
    if (root.type !== 'regular')
      throw new StoreError('BAD_INFO', `derivation '${drvPath}' is not a regular file`);
    const drv = parseDerivation(root.contents, {
      name: derivationName(drvPath),
      path: drvPath,
      storeDir: this.storeDir,
    });
    const out = new Map<string, string>();
    for (const [name, o] of drv.outputs) if (o.path) out.set(name, o.path);
    return out;
  }

  async *narFromPath(path: string): AsyncIterable<Uint8Array> {
    const info = await this.queryNarInfo(path);
    if (!info)
      throw new StoreError('INVALID_PATH', `path '${path}' is not valid in binary cache '${this.uri}'`);
    const method = info.compression as CompressionMethod;
    const where = `${this.transport.uri}/${info.url}`;
    yield* decompress(method, checkedFile(this.transport.getStream(info.url), info, where), where);
  }

  async addToStoreNar(
    rawInfo: ValidPathInfo,
    nar: AsyncIterable<Uint8Array>,
    opts: AddToStoreOptions = {},
  ): Promise<void> {
    const info = normaliseInfo(rawInfo, this.storeDir);
    if (!opts.repair && (await this.isValidPath(info.path))) {
      for await (const _ of nar);
      return;
    }
    for (const r of info.references) {
      if (r !== info.path && !(await this.isValidPath(r))) {
        throw new StoreError(
          'INVALID_PATH',
          `cannot add '${info.path}' to the binary cache because the reference '${r}' is not valid`,
        );
      }
    }
    const written = await writeToBinaryCache(this, info, nar);
    this.narInfoCache.remember(hashPartOf(info.path), written);
  }

  async addTextToStore(name: string, text: Uint8Array | string, references: string[]): Promise<string> {
    return addTextAsNar(this, name, text, references);
  }

  async addTempRoot(): Promise<void> {}

  async close(): Promise<void> {
    await this.transport.close();
  }
}

/** Passes the file through, checking FileSize and FileHash at its end when the narinfo has them. */
async function* checkedFile(
  file: AsyncIterable<Uint8Array>,
  info: NarInfo,
  where: string,
): AsyncGenerator<Uint8Array> {
  const sink = info.fileHash ? new HashSink(info.fileHash.algo) : undefined;
  let size = 0;
  for await (const chunk of file) {
    sink?.update(chunk);
    size += chunk.length;
    yield chunk;
  }
  if (info.fileSize !== undefined && size !== info.fileSize) {
    throw new StoreError(
      'HASH_MISMATCH',
      `cannot fetch '${info.storePath}': file '${where}' has ${size} bytes, its narinfo says ${info.fileSize}`,
    );
  }
  if (sink && info.fileHash && !hashEquals(sink.finish(), info.fileHash)) {
    throw new StoreError(
      'HASH_MISMATCH',
      `cannot fetch '${info.storePath}': file '${where}' does not match its narinfo's FileHash`,
    );
  }
}
