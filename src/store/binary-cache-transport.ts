// How a binary cache store reaches its files: a directory (file://) or a web server (http://,
// https://). Paths are relative to the cache root ("nix-cache-info", "<hash>.narinfo", "nar/…").

export const MIME = {
  cacheInfo: 'text/x-nix-cache-info',
  narinfo: 'text/x-nix-narinfo',
  nar: 'application/x-nix-nar',
} as const;

export interface CacheTransport {
  /** The cache's URI without parameters ("file:///srv/cache", "http://127.0.0.1:5000"). */
  readonly uri: string;
  /** A small file's bytes, or undefined when the cache does not have it. */
  get(rel: string): Promise<Buffer | undefined>;
  /** A (large) file streamed; StoreError('INVALID_PATH') when absent. */
  getStream(rel: string): AsyncIterable<Uint8Array>;
  /** Stores a small file; a reader sees the old contents or the new, never a part. */
  put(rel: string, data: Uint8Array | string, mime: string): Promise<void>;
  /** A local file path where a NAR can be staged before `putStaged`. */
  stagingFile(): string;
  /** Moves a staged file to `rel` (rename or upload); the staged file is gone afterwards. */
  putStaged(staged: string, rel: string, mime: string): Promise<void>;
  close(): Promise<void>;
}
