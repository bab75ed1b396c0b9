// An HTTP binary cache over a store (`tix cache serve`), readable by Nix 2.8 as a substituter:
//   GET /nix-cache-info                       StoreDir, WantMassQuery, Priority
//   GET /<hashpart>.narinfo                   the path's info, signed on the fly with the given keys
//   GET /nar/<hashpart>-<narhash>.nar[.xz|.zst] the NAR, streamed (compressed on the fly)
// NAR URLs name the path's hash part so no index is needed; the NAR hash in the URL must still
// match, so a narinfo and its NAR always agree. HEAD is answered like GET without a body.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { printHash } from '../formats/hash.js';
import { fingerprint, type NarInfo, printNarInfo, printNixCacheInfo } from '../formats/narinfo.js';
import { type SecretKey, signFingerprint } from '../formats/signing.js';
import { MIME } from '../store/binary-cache-transport.js';
import { BufferPool } from '../store/buffer-pool.js';
import { compress, narFileExtension } from '../store/compression.js';
import { BIG_CHUNK } from '../store/nar-dump-disk.js';
import type { Store, ValidPathInfo } from '../store/store.js';
import { parseNarHash } from '../store/store-paths.js';

export type ServedCompression = 'none' | 'xz' | 'zstd';

export interface CacheServerOptions {
  /** Keys that sign every narinfo served. */
  signKeys?: SecretKey[];
  /** How NARs are compressed on the fly (default none: fastest on a fast network). */
  compression?: ServedCompression;
  /** nix-cache-info Priority (default 30, as nix-serve). */
  priority?: number;
  /** Unexpected errors (a request still gets a 500). */
  onError?: (e: unknown) => void;
}

type HashPartStore = Store & { queryPathFromHashPart?: (hashPart: string) => Promise<string | undefined> };

const HASH_PART = /^[0-9abcdfghijklmnpqrsvwxyz]{32}$/;

function send(
  res: ServerResponse,
  req: IncomingMessage,
  status: number,
  body: string,
  type = 'text/plain',
): void {
  const bytes = Buffer.from(body);
  res.writeHead(status, { 'content-type': type, 'content-length': bytes.length });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

/**
 * Writes with backpressure; false when the client went away. The chunk goes back to `pool` once
 * the socket has handed it to the kernel.
 */
function write(res: ServerResponse, chunk: Uint8Array, pool?: BufferPool): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  const written = pool ? res.write(chunk, (err) => err || pool.give(chunk)) : res.write(chunk);
  if (written) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/** The narinfo served for `info`. */
export function servedNarInfo(
  info: ValidPathInfo,
  opts: { compression: ServedCompression; signKeys: SecretKey[]; storeDir: string },
): NarInfo {
  const narHash = parseNarHash(info.narHash, info.path);
  const hashPart = info.path.slice(opts.storeDir.length + 1, opts.storeDir.length + 33);
  const url = `nar/${hashPart}-${printHash(narHash, 'nix32')}.nar${narFileExtension(opts.compression)}`;
  const out: NarInfo = {
    storePath: info.path,
    url,
    compression: opts.compression,
    narHash,
    narSize: info.narSize,
    references: info.references,
    sigs: [...info.sigs],
  };
  if (opts.compression === 'none') {
    out.fileHash = narHash;
    out.fileSize = info.narSize;
  }
  if (info.deriver) out.deriver = info.deriver;
  if (info.ca) out.ca = info.ca;
  if (opts.signKeys.length > 0) {
    const fp = fingerprint(info.path, narHash, info.narSize, info.references);
    for (const k of opts.signKeys) out.sigs.push(signFingerprint(k, fp));
  }
  return out;
}

export function createCacheServer(store: Store, opts: CacheServerOptions = {}): Server {
  const compression = opts.compression ?? 'none';
  const signKeys = opts.signKeys ?? [];
  const lookup = async (hashPart: string): Promise<ValidPathInfo | undefined> => {
    const s = store as HashPartStore;
    if (!HASH_PART.test(hashPart) || typeof s.queryPathFromHashPart !== 'function') return undefined;
    const path = await s.queryPathFromHashPart(hashPart);
    return path ? store.queryPathInfo(path) : undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, req, 405, 'method not allowed\n');
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/nix-cache-info') {
      const text = printNixCacheInfo({
        storeDir: store.storeDir,
        wantMassQuery: true,
        priority: opts.priority ?? 30,
      });
      return send(res, req, 200, text, MIME.cacheInfo);
    }
    const narinfo = /^\/([0-9a-z]{32})\.narinfo$/.exec(path);
    if (narinfo) {
      const info = await lookup(narinfo[1]!);
      if (!info) return send(res, req, 404, 'no such path\n');
      const text = printNarInfo(servedNarInfo(info, { compression, signKeys, storeDir: store.storeDir }));
      return send(res, req, 200, text, MIME.narinfo);
    }
    const nar = /^\/nar\/([0-9a-z]{32})-([0-9a-z]{52})\.nar(\.xz|\.zst)?$/.exec(path);
    if (nar && (nar[3] ?? '') === narFileExtension(compression)) {
      const info = await lookup(nar[1]!);
      if (!info || printHash(parseNarHash(info.narHash, info.path), 'nix32') !== nar[2])
        return send(res, req, 404, 'no such NAR\n');
      const headers: Record<string, string | number> = { 'content-type': MIME.nar };
      if (compression === 'none') headers['content-length'] = info.narSize;
      res.writeHead(200, headers);
      if (req.method === 'HEAD') return void res.end();
      // Uncompressed NARs are read into recycled buffers, each given back once the socket took it.
      const pool = compression === 'none' ? new BufferPool(BIG_CHUNK) : undefined;
      const body = compress(compression, store.narFromPath(info.path, { pool }))[Symbol.asyncIterator]();
      try {
        // Read the next chunks while the socket drains the previous one.
        let next = body.next();
        for (let r = await next; !r.done; r = await next) {
          const sent = write(res, r.value, pool);
          next = body.next();
          if (!(await sent)) {
            await next.catch(() => {});
            await body.return?.(undefined);
            return;
          }
        }
        res.end();
      } catch (e) {
        opts.onError?.(e);
        res.destroy(e as Error);
      }
      return;
    }
    send(res, req, 404, 'not found\n');
  };

  return createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch((e) => {
      opts.onError?.(e);
      if (!res.headersSent) send(res, req, 500, `${(e as Error).message}\n`);
      else res.destroy();
    });
  });
}

/** Starts a cache server on host:port (port 0 = any); resolves with its base URL once listening. */
export async function startCacheServer(
  store: Store,
  opts: CacheServerOptions & { host?: string; port?: number },
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createCacheServer(store, opts);
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    url: `http://${shown}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
