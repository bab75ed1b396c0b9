// In-process memory of narinfo lookups, per cache: what a cache has is remembered for
// `narinfo-cache-positive-ttl` seconds, what it lacks for `narinfo-cache-negative-ttl` (Nix's
// defaults: 30 days and 1 hour). Writes through this process update it at once.
import type { NarInfo } from '../formats/narinfo.js';

export interface NarInfoCacheOptions {
  positiveTtl?: number;
  negativeTtl?: number;
  now?: () => number;
}

export class NarInfoCache {
  readonly #entries = new Map<string, { info: NarInfo | undefined; at: number }>();
  readonly #positiveTtl: number;
  readonly #negativeTtl: number;
  readonly #now: () => number;

  constructor(opts: NarInfoCacheOptions = {}) {
    this.#positiveTtl = opts.positiveTtl ?? 30 * 24 * 3600;
    this.#negativeTtl = opts.negativeTtl ?? 3600;
    this.#now = opts.now ?? (() => Date.now() / 1000);
  }

  /** `{ info }` when known and fresh (info undefined = known absent); undefined = ask the cache. */
  lookup(hashPart: string): { info: NarInfo | undefined } | undefined {
    const e = this.#entries.get(hashPart);
    if (!e) return undefined;
    const ttl = e.info ? this.#positiveTtl : this.#negativeTtl;
    if (this.#now() - e.at >= ttl) {
      this.#entries.delete(hashPart);
      return undefined;
    }
    return { info: e.info };
  }

  remember(hashPart: string, info: NarInfo | undefined): void {
    this.#entries.set(hashPart, { info, at: this.#now() });
  }
}
