// Opening `file:///dir?…` and `http(s)://host/…?…` binary caches from a store URI and settings.
// URI parameters as in Nix 2.8: compression (default xz), compression-level, parallel-compression,
// secret-key (a key file; tix also takes a comma-separated list), priority, want-mass-query.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FormatError } from '../formats/errors.js';
import { parseSecretKey, type SecretKey } from '../formats/signing.js';
import { BinaryCacheStore } from './binary-cache.js';
import { FileCacheTransport } from './binary-cache-file.js';
import { HttpCacheTransport } from './binary-cache-http.js';
import { checkCompressionMethod } from './compression.js';
import { StoreError } from './errors.js';
import type { OpenStoreOptions, ParsedStoreUri } from './open.js';

function setting(opts: OpenStoreOptions, key: string): string | undefined {
  const s = opts.settings;
  if (!s) return undefined;
  if (typeof (s as { get?: unknown }).get === 'function')
    return (s as { get(k: string): string | undefined }).get(key) ?? undefined;
  const v = (s as Record<string, unknown>)[key];
  return v === undefined || v === null ? undefined : String(v);
}

function intParam(uri: ParsedStoreUri, key: string, where: string): number | undefined {
  const v = uri.params.get(key);
  if (v === undefined) return undefined;
  if (!/^[+-]?[0-9]+$/.test(v))
    throw new StoreError(
      'BAD_URI',
      `cannot open store '${where}': parameter '${key}' must be an integer, not '${v}'`,
    );
  return Number(v);
}

function boolParam(uri: ParsedStoreUri, key: string, where: string): boolean | undefined {
  const v = uri.params.get(key);
  if (v === undefined) return undefined;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new StoreError(
    'BAD_URI',
    `cannot open store '${where}': parameter '${key}' must be 'true' or 'false', not '${v}'`,
  );
}

/** Reads secret key files ("name:base64"). */
export function readSecretKeyFiles(files: string[]): SecretKey[] {
  return files.map((f) => {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      throw new StoreError('BAD_KEY', `cannot read secret key file '${f}': ${(e as Error).message}`, {
        cause: e,
      });
    }
    try {
      return parseSecretKey(text);
    } catch (e) {
      if (e instanceof FormatError)
        throw new StoreError('BAD_KEY', `in secret key file '${f}': ${e.message}`, { cause: e });
      throw e;
    }
  });
}

function uriText(uri: ParsedStoreUri): string {
  const q = new URLSearchParams([...uri.params]).toString();
  return `${uri.scheme}://${uri.rest}${q ? `?${q}` : ''}`;
}

/** Opens a binary cache; a file:// cache is created (directory and nix-cache-info) when missing. */
export async function openBinaryCacheStore(
  uri: ParsedStoreUri,
  opts: OpenStoreOptions = {},
): Promise<BinaryCacheStore> {
  const where = uriText(uri);
  const storeDir = uri.params.get('store') ?? setting(opts, 'store-dir') ?? '/nix/store';
  const num = (k: string) => {
    const v = setting(opts, k);
    return v === undefined || v === '' ? undefined : Number(v);
  };
  const transport =
    uri.scheme === 'file'
      ? new FileCacheTransport(resolve(decodeURIComponent(uri.rest)))
      : uri.scheme === 'http' || uri.scheme === 'https'
        ? new HttpCacheTransport(`${uri.scheme}://${uri.rest}`, { connectTimeout: num('connect-timeout') })
        : undefined;
  if (!transport) throw new StoreError('BAD_URI', `cannot open store '${where}': not a binary cache URI`);
  const keyFiles = [uri.params.get('secret-key'), uri.params.get('secret-keys')]
    .filter((v): v is string => v !== undefined && v !== '')
    .flatMap((v) => v.split(','));
  const store = new BinaryCacheStore(transport, {
    uri: where,
    storeDir,
    compression: checkCompressionMethod(
      uri.params.get('compression') ?? 'xz',
      `cannot open store '${where}'`,
    ),
    compressionLevel: intParam(uri, 'compression-level', where),
    parallelCompression: boolParam(uri, 'parallel-compression', where),
    secretKeys: readSecretKeyFiles(keyFiles),
    priority: intParam(uri, 'priority', where),
    wantMassQuery: boolParam(uri, 'want-mass-query', where),
    narinfoPositiveTtl: num('narinfo-cache-positive-ttl'),
    narinfoNegativeTtl: num('narinfo-cache-negative-ttl'),
  });
  try {
    await store.init({ create: uri.scheme === 'file' });
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}
