// The build layer's substitution hook from the settings (`substituters`, `substitute`,
// `trusted-public-keys`, `secret-key-files`, `require-sigs`, `connect-timeout`, the narinfo TTLs):
// src/store/substitute.ts against the store being built into. Each substituter is opened once per
// hook (a substituter that cannot be opened is warned about once and then left out, as Nix
// disables it); a substitute that is not signed by a trusted key is ignored with a warning and the
// path is built, as in Nix; any other failure (hash mismatch, I/O) is the build layer's to handle
// (`fallback`).
import type { SubstituteHook } from '../build/goals.js';
import type { Settings } from '../config/settings.js';
import { isDerivationPath } from '../formats/derivation.js';
import { hashEquals, parseHash } from '../formats/hash.js';
import { openStore } from '../store/open.js';
import type { Store, ValidPathInfo } from '../store/store.js';
import { querySubstitutable, type SubstitutableInfo, substitutePaths } from '../store/substitute.js';
import { substituteSettingsFrom } from '../store/substitute-settings.js';

export interface Substitution {
  hook: SubstituteHook;
  /**
   * Nix's Store::substitutePaths, for servers asked to substitute before answering a validity
   * query: fetches what it can of `paths` except derivations; failures are only warned about.
   */
  prefetch(paths: string[]): Promise<void>;
  /** What the substituters offer for those of `paths` that are not valid (src/store/substitute.ts). */
  query(paths: string[], opts?: { massQuery?: boolean }): Promise<Map<string, SubstitutableInfo>>;
  /**
   * A good copy of a valid but damaged path, for `verify --repair`: the NAR of the first
   * substituter whose copy has the recorded NAR hash (which the store checks again on import).
   */
  repairSource(info: ValidPathInfo): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** Closes the substituters the hook opened. */
  close(): Promise<void>;
}

/** `store` with a close() that does nothing, so that one opened substituter serves many calls. */
function keptOpen(store: Store): Store {
  return new Proxy(store, {
    get(target, key) {
      if (key === 'close') return async () => {};
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** Settings as nix.conf text, the form src/store reads. */
export function settingsText(settings: Settings): { get(name: string): string | undefined } {
  return { get: (name) => settings.text(name) };
}

/**
 * The hook that fetches into `store` from the configured substituters; undefined when there are
 * none (or `substitute = false`). `log` gets "copying path '…' from '…'..." and warnings.
 */
export function substitutionFromSettings(
  store: Store,
  settings: Settings,
  opts: { env?: NodeJS.ProcessEnv; log: (line: string) => void },
): Substitution | undefined {
  const text = settingsText(settings);
  const base = substituteSettingsFrom(text, { env: opts.env, onLog: opts.log });
  if (base.substituters.length === 0) return undefined;
  const opened = new Map<string, Promise<Store>>();
  const unusable = new Set<string>();
  const subSettings = {
    ...base,
    openStore: (uri: string) => {
      let s = opened.get(uri);
      if (!s) {
        s = openStore(uri, { settings: text, env: opts.env });
        s.catch(() => unusable.add(uri));
        opened.set(uri, s);
      }
      return s.then(keptOpen);
    },
  };
  const hook: SubstituteHook = async (paths) => {
    subSettings.substituters = subSettings.substituters.filter((u) => !unusable.has(u));
    const r = await substitutePaths(store, paths, subSettings);
    const failed = new Map<string, Error>();
    for (const [p, e] of r.failed) {
      if (e.code === 'SIGNATURE') opts.log(`warning: ${e.message}`);
      else failed.set(p, e);
    }
    return { substituted: r.substituted, failed };
  };
  return {
    hook,
    query: (paths, queryOpts) => {
      subSettings.substituters = subSettings.substituters.filter((u) => !unusable.has(u));
      return querySubstitutable(store, paths, subSettings, queryOpts);
    },
    prefetch: async (paths) => {
      const wanted = paths.filter((p) => !isDerivationPath(p));
      if (wanted.length === 0) return;
      try {
        const r = await hook(wanted);
        for (const e of r.failed?.values() ?? []) opts.log(`warning: ${e.message}`);
      } catch (e) {
        if (!(e instanceof Error) || typeof (e as { code?: unknown }).code !== 'string') throw e;
        opts.log(`warning: ${e.message}`);
      }
    },
    repairSource: async (info) => {
      for (const uri of subSettings.substituters) {
        try {
          const sub = await subSettings.openStore(uri);
          const theirs = await sub.queryPathInfo(info.path);
          if (theirs && hashEquals(parseHash(theirs.narHash), parseHash(info.narHash)))
            return sub.narFromPath(info.path);
        } catch {
          // This substituter cannot help; try the next.
        }
      }
      return undefined;
    },
    close: async () => {
      const stores = await Promise.allSettled(opened.values());
      await Promise.all(stores.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
    },
  };
}
