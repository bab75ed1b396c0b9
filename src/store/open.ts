// Store URIs (Nix syntax) and openStore: local, memory and the daemon (daemon, unix://, ssh-ng://)
// directly; binary caches (file://, http(s)://) and serve-protocol remotes (ssh://, exec://) are
// loaded when used; registerStoreBackend adds or overrides a scheme.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { openDaemonStore } from './daemon-open.js';
import { StoreError } from './errors.js';
import { LocalStore } from './local.js';
import { MemoryStore } from './memory.js';
import type { Store } from './store.js';

/** nix.conf-style settings: a Map, an object with get(), or a plain record. */
export type SettingsLike =
  | Map<string, string>
  | { get(key: string): string | undefined }
  | Record<string, unknown>;

export interface OpenStoreOptions {
  settings?: SettingsLike;
  /** Environment for defaults (XDG_DATA_HOME, HOME); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** A daemon's or remote program's time to answer the handshake, in seconds (`connect-timeout`). */
  connectTimeout?: number;
  /** The user's verbosity as a Nix level (3: info, the default; 2 with --quiet), for daemons. */
  verbosity?: number;
  /**
   * Settings the user gave (name → value; user files, --option, flags), which a client forwards
   * to a daemon's socket with SetOptions as Nix's does.
   */
  overrides?: ReadonlyMap<string, string>;
}

export interface ParsedStoreUri {
  /** "local", "daemon", "auto", "memory", "ssh", "ssh-ng", "unix", "file", "http", ... */
  scheme: string;
  /** What follows "scheme://" up to "?" ("" for bare schemes). */
  rest: string;
  params: Map<string, string>;
}

export type StoreFactory = (uri: ParsedStoreUri, opts: OpenStoreOptions) => Promise<Store>;

const backends = new Map<string, StoreFactory>();

/** Makes openStore accept `scheme` (e.g. "ssh", "daemon", "file"). Later registrations win. */
export function registerStoreBackend(scheme: string, factory: StoreFactory): void {
  backends.set(scheme, factory);
}

export function getSetting(settings: SettingsLike | undefined, key: string): string | undefined {
  if (!settings) return undefined;
  if (typeof (settings as { get?: unknown }).get === 'function') {
    return (settings as { get(k: string): string | undefined }).get(key) ?? undefined;
  }
  const v = (settings as Record<string, unknown>)[key];
  return v === undefined || v === null ? undefined : String(v);
}

export function parseStoreUri(uri: string): ParsedStoreUri {
  const q = uri.indexOf('?');
  const head = q < 0 ? uri : uri.slice(0, q);
  const params = new Map<string, string>();
  if (q >= 0) for (const [k, v] of new URLSearchParams(uri.slice(q + 1))) params.set(k, v);
  if (head.startsWith('/')) {
    // A bare absolute path is a local store rooted there, as in Nix.
    params.set('root', head);
    return { scheme: 'local', rest: '', params };
  }
  const sep = head.indexOf('://');
  if (sep >= 0) return { scheme: head.slice(0, sep), rest: head.slice(sep + 3), params };
  if (!/^[a-z][a-z0-9+.-]*$/.test(head)) throw new StoreError('BAD_URI', `cannot parse store URI '${uri}'`);
  return { scheme: head, rest: '', params };
}

/** `$XDG_DATA_HOME/tix/root`, default `~/.local/share/tix/root`. */
export function defaultStoreRoot(env: NodeJS.ProcessEnv = process.env): string {
  const data = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share');
  return join(data, 'tix', 'root');
}

/** Where a tix daemon serving a store listens, under the store's root. */
export const DAEMON_SOCKET_IN_ROOT = 'nix/var/tix/daemon-socket/socket';

/** Where a tix daemon serving the default store listens. */
export function defaultDaemonSocket(env: NodeJS.ProcessEnv = process.env): string {
  return join(defaultStoreRoot(env), DAEMON_SOCKET_IN_ROOT);
}

/** The store URI to use: `--store` flag > env TIX_STORE > `store` setting > "auto". */
export function resolveStoreUri(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  settings?: SettingsLike,
): string {
  return flag || env.TIX_STORE || getSetting(settings, 'store') || 'auto';
}

function boolSetting(settings: SettingsLike | undefined, key: string): boolean | undefined {
  const v = getSetting(settings, key);
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new StoreError('BAD_URI', `setting '${key}' must be 'true' or 'false', not '${v}'`);
}

export function openLocalStore(uri: ParsedStoreUri, opts: OpenStoreOptions = {}): LocalStore {
  const env = opts.env ?? process.env;
  const p = uri.params;
  const explicitDirs = p.has('state') || p.has('real');
  const root = p.get('root') ? resolve(p.get('root')!) : explicitDirs ? '/' : defaultStoreRoot(env);
  const storeDir = p.get('store') ?? getSetting(opts.settings, 'store-dir') ?? '/nix/store';
  const query = new URLSearchParams([...p].filter(([k]) => k !== 'root'));
  const canonical = `local?root=${root}${query.size ? `&${query}` : ''}`;
  const keys = getSetting(opts.settings, 'trusted-public-keys');
  return new LocalStore({
    root,
    storeDir,
    realStoreDir: p.get('real'),
    stateDir: p.get('state'),
    logDir: p.get('log'),
    uri: canonical,
    fsync: boolSetting(opts.settings, 'fsync-store-paths') ?? false,
    autoOptimise: boolSetting(opts.settings, 'auto-optimise-store') ?? false,
    keepDerivations: boolSetting(opts.settings, 'keep-derivations'),
    keepOutputs: boolSetting(opts.settings, 'keep-outputs'),
    requireSigs: boolSetting(opts.settings, 'require-sigs'),
    trustedPublicKeys: keys ? keys.split(/\s+/).filter((k) => k !== '') : undefined,
  });
}

/** Whether openStore(uri) would open a local store (known before opening it). */
export function opensLocalStore(uri: string, env: NodeJS.ProcessEnv = process.env): boolean {
  let parsed: ParsedStoreUri;
  try {
    parsed = parseStoreUri(uri);
  } catch {
    return false;
  }
  if (backends.has(parsed.scheme)) return false;
  if (parsed.scheme === 'auto') return !existsSync(defaultDaemonSocket(env));
  return parsed.scheme === 'local';
}

/** Opens the store named by `uri` (see resolveStoreUri for picking one). */
export async function openStore(uri: string, given: OpenStoreOptions = {}): Promise<Store> {
  const parsed = parseStoreUri(uri);
  // A daemon's handshake deadline: the caller's, else the `connect-timeout` setting.
  const opts = {
    ...given,
    connectTimeout: given.connectTimeout ?? (Number(getSetting(given.settings, 'connect-timeout')) || 0),
  };
  const custom = backends.get(parsed.scheme);
  if (parsed.scheme === 'auto') {
    const daemon = backends.get('daemon') ?? openDaemonStore;
    if (daemon && existsSync(defaultDaemonSocket(opts.env))) return daemon(parsed, opts);
    return openLocalStore({ scheme: 'local', rest: '', params: parsed.params }, opts);
  }
  if (custom) return custom(parsed, opts);
  if (parsed.scheme === 'local') return openLocalStore(parsed, opts);
  if (['file', 'http', 'https'].includes(parsed.scheme)) {
    // Loaded on use: binary caches bring HTTP(S), compression and their tools, which commands on
    // a local store never need at start-up.
    const { openBinaryCacheStore } = await import('./binary-cache-open.js');
    return openBinaryCacheStore(parsed, opts);
  }
  if (['daemon', 'unix', 'ssh-ng'].includes(parsed.scheme)) return openDaemonStore(parsed, opts);
  if (parsed.scheme === 'ssh' || parsed.scheme === 'exec') {
    // The serve protocol (a Nix or tix builder's `nix-store --serve`), loaded on use.
    const { openServeStore } = await import('./serve.js');
    return openServeStore(uri, { env: opts.env, connectTimeout: opts.connectTimeout });
  }
  if (parsed.scheme === 'memory') {
    const keys = getSetting(opts.settings, 'trusted-public-keys');
    return new MemoryStore({
      storeDir: parsed.params.get('store'),
      requireSigs: boolSetting(opts.settings, 'require-sigs'),
      trustedPublicKeys: keys ? keys.split(/\s+/).filter((k) => k !== '') : undefined,
    });
  }
  throw new StoreError('BAD_URI', `cannot open store '${uri}': unsupported store type '${parsed.scheme}'`);
}
