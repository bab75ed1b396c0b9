// Operations only some stores have (the local store has all of them). Commands ask for one by
// method name and get a clear error on a store without it, instead of a crash.
import type { Store, ValidPathInfo } from '../store/store.js';
import { CliError } from './cli-error.js';

export type GcAction = 'deleteDead' | 'returnLive' | 'returnDead' | 'deleteSpecific';

export interface StoreCapabilities {
  collectGarbage(opts: {
    action: GcAction;
    paths?: string[];
    maxFreed?: number;
    ignoreLiveness?: boolean;
    /** Progress lines, from a store that collects garbage itself (a daemon sends its own). */
    log?: (line: string) => void;
  }): Promise<{ paths: string[]; bytesFreed: number }>;
  verifyStore(opts: {
    checkContents: boolean;
    repair: boolean;
    /** Where a good copy of a damaged path comes from (local stores only). */
    repairSource?: (info: ValidPathInfo) => Promise<AsyncIterable<Uint8Array> | undefined>;
    rebuild?: (info: ValidPathInfo) => Promise<boolean>;
    /** Messages as they come (then `errors` need not be printed). */
    log?: (line: string, level: 'info' | 'error') => void;
  }): Promise<{ errors: string[] }>;
  /** Statistics from a local store; nothing through a daemon. */
  optimiseStore(): Promise<{ filesLinked: number; bytesFreed: number } | undefined>;
  buildLogPath(drvPath: string): string;
  addIndirectRoot(linkPath: string): Promise<void>;
  findRoots(): Promise<Map<string, string>>;
}

export function requireCapability<K extends keyof StoreCapabilities>(
  store: Store,
  method: K,
  what: string,
): Pick<StoreCapabilities, K> {
  const fn = (store as unknown as Record<string, unknown>)[method];
  if (typeof fn !== 'function') {
    throw new CliError('UNSUPPORTED', `store '${store.uri}' does not support ${what}`);
  }
  return store as unknown as Pick<StoreCapabilities, K>;
}
