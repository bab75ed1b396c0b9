// The one place where settings become build-layer options: LocalBuildOptions for local builds
// (`tix build`, `tix daemon`, `tix-daemon --stdio`, `tix-store --serve`), BuildOptions sent with
// remote builds, and the auto-GC settings of a LocalStore. Every command that builds goes through
// here, so a setting added to the build layer works everywhere at once.
import type { LocalBuildOptions } from '../build/build-one.js';
import type { LocalBuildStore } from '../build/local-store-view.js';
import type { Settings } from '../config/settings.js';
import type { SandboxMode } from '../config/values.js';
import type { AutoGcSettings } from '../store/auto-gc.js';
import type { BuildOptions, Store } from '../store/store.js';

/** Whether `s` can build locally (a LocalStore, not a remote or binary-cache store). */
export function isLocalBuildStore(s: Store): s is LocalBuildStore {
  return 'realStoreDir' in s && typeof (s as Partial<LocalBuildStore>).lockPaths === 'function';
}

function sandboxMode(v: SandboxMode): 'true' | 'false' | 'relaxed' {
  return v === 'relaxed' ? 'relaxed' : v ? 'true' : 'false';
}

/** Bytes as a JS number (limits beyond 2^53 are "no limit" in practice). */
function bytes(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/**
 * LocalBuildOptions from `sandbox`, `sandbox-paths` (with `extra-sandbox-paths`, which the
 * settings layer appends to it), `cores`, `max-silent-time`, `timeout`, `build-users-group`,
 * `build-memory-max`, `build-pids-max`, `keep-failed`, `log-lines`, `system`, `extra-platforms`
 * and `system-features`. The default of `sandbox-paths` is the build layer's (/bin/sh; see
 * cliSettings); `cores = 0` means all CPUs.
 */
export function localBuildOptions(
  settings: Settings,
  env: Readonly<Record<string, string | undefined>>,
): LocalBuildOptions {
  const memoryMax = bytes(settings.get('build-memory-max'));
  const pidsMax = settings.get('build-pids-max');
  return {
    sandbox: sandboxMode(settings.get('sandbox')),
    // Settings loaded without the build layer's default (not through cliSettings) leave it to the build layer.
    sandboxPaths:
      settings.origin('sandbox-paths') === 'default' && settings.get('sandbox-paths').length === 0
        ? undefined
        : settings.get('sandbox-paths'),
    buildCores: settings.get('cores') || undefined,
    maxSilentTime: settings.get('max-silent-time'),
    timeout: settings.get('timeout'),
    maxLogSize: settings.get('max-build-log-size'),
    ...(settings.get('pre-build-hook') !== '' ? { preBuildHook: settings.get('pre-build-hook') } : {}),
    ...(settings.get('hashed-mirrors').length > 0 ? { hashedMirrors: settings.get('hashed-mirrors') } : {}),
    logLines: settings.get('log-lines'),
    keepFailed: settings.get('keep-failed'),
    systems: [settings.get('system'), ...settings.get('extra-platforms')],
    systemFeatures: settings.get('system-features'),
    // Left unset at its default so that the build layer picks 'nixbld' only when that group exists.
    buildUsersGroup:
      settings.origin('build-users-group') === 'default' ? undefined : settings.get('build-users-group'),
    limits: memoryMax > 0 || pidsMax > 0 ? { memoryMax, pidsMax } : undefined,
    // An empty build-users-group with auto-allocate-uids off: builds run as the caller, as in Nix 2.8.
    ...(settings.get('build-users-group') === '' && !settings.get('auto-allocate-uids')
      ? { buildUsers: false }
      : {}),
    callerEnv: env,
  };
}

/** What a remote builder is told with each build (timeouts, log limit, keep-failed). */
export function remoteBuildOptions(settings: Settings): BuildOptions {
  return {
    maxSilentTime: settings.get('max-silent-time'),
    buildTimeout: settings.get('timeout'),
    maxLogSize: settings.get('max-build-log-size'),
    keepFailed: settings.get('keep-failed'),
  };
}

/** `min-free`, `max-free`, `min-free-check-interval` as a LocalStore's auto-GC settings. */
export function autoGcSettings(settings: Settings, log?: (msg: string) => void): AutoGcSettings | undefined {
  const minFree = settings.get('min-free');
  if (minFree === 0n) return undefined;
  return {
    minFree,
    maxFree: settings.get('max-free'),
    checkInterval: settings.get('min-free-check-interval'),
    log,
  };
}

/** Turns on auto-GC for a store that supports it (a LocalStore); other stores are left alone. */
export function applyAutoGcSettings(store: Store, settings: Settings, log?: (msg: string) => void): void {
  if (!('autoGcSettings' in store)) return;
  (store as { autoGcSettings: AutoGcSettings | undefined }).autoGcSettings = autoGcSettings(settings, log);
}
