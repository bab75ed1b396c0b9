// The settings tix supports: name, type, default and what it does. Names, aliases, types and
// defaults follow Nix 2.8 (`nix show-config --json`); defaults that depend on the machine are
// computed from a DefaultContext so tests can pin them.
import type { SandboxMode, SettingType } from './values.js';

/** The TypeScript type of every supported setting's value. */
export interface SettingValues {
  store: string;
  'max-jobs': number;
  cores: number;
  sandbox: SandboxMode;
  'sandbox-fallback': boolean;
  'sandbox-paths': string[];
  'sandbox-build-dir': string;
  builders: string;
  'builders-use-substitutes': boolean;
  'max-silent-time': number;
  timeout: number;
  'keep-going': boolean;
  'keep-failed': boolean;
  'keep-build-log': boolean;
  'compress-build-log': boolean;
  'max-build-log-size': number;
  'log-lines': number;
  substitute: boolean;
  substituters: string[];
  'trusted-substituters': string[];
  'trusted-public-keys': string[];
  'require-sigs': boolean;
  'secret-key-files': string[];
  'trusted-users': string[];
  'allowed-users': string[];
  system: string;
  'extra-platforms': string[];
  'system-features': string[];
  'min-free': bigint;
  'max-free': bigint;
  'min-free-check-interval': number;
  'keep-derivations': boolean;
  'keep-outputs': boolean;
  'fsync-store-paths': boolean;
  'auto-optimise-store': boolean;
  'connect-timeout': number;
  'build-users-group': string;
  'post-build-hook': string;
  'pre-build-hook': string;
  'download-attempts': number;
  'http-connections': number;
  'hashed-mirrors': string[];
  'auto-allocate-uids': boolean;
  'build-memory-max': bigint;
  'build-pids-max': number;
  fallback: boolean;
  'narinfo-cache-negative-ttl': number;
  'narinfo-cache-positive-ttl': number;
  'show-trace': boolean;
  'experimental-features': string[];
  'nix-path': string[];
  'pure-eval': boolean;
  'restrict-eval': boolean;
  'allowed-uris': string[];
  'allow-import-from-derivation': boolean;
  'tarball-ttl': number;
}

export type SettingName = keyof SettingValues;

/** Machine facts that some defaults depend on. */
export interface DefaultContext {
  /** Directory of the system configuration file (`$TIX_CONF_DIR`, default /etc/tix). */
  confDir: string;
  uid: number;
  /** Nix system double of this machine, e.g. "x86_64-linux". */
  system: string;
  cpus: number;
  /** /dev/kvm is readable and writable. */
  kvm: boolean;
  /** x86-64 levels of the CPU ("x86_64-v1", …), see cpu-levels.ts. */
  cpuLevels: string[];
  /**
   * The default of `sandbox-paths`. Nix 2.8 on Debian has none; tix's commands pass the build
   * layer's default (`/bin/sh` backed by a static busybox), so that `extra-sandbox-paths` adds to it.
   */
  sandboxPaths?: string[];
}

export interface SettingDef<T> {
  type: SettingType;
  default: (ctx: DefaultContext) => T;
  description: string;
  /** Older names that set the same setting (Nix's aliases). */
  aliases?: string[];
}

const UINT64_MAX = (1n << 64n) - 1n;

function defaultExtraPlatforms(ctx: DefaultContext): string[] {
  if (ctx.system !== 'x86_64-linux') return [];
  return ['i686-linux', ...ctx.cpuLevels.map((l) => `${l}-linux`)];
}

function defaultSystemFeatures(ctx: DefaultContext): string[] {
  const f = ['benchmark', 'big-parallel', 'nixos-test'];
  if (ctx.kvm) f.splice(2, 0, 'kvm');
  return f;
}

export const SETTINGS: { [K in SettingName]: SettingDef<SettingValues[K]> } = {
  store: { type: 'string', default: () => 'auto', description: 'URI of the store to use' },
  'max-jobs': {
    type: 'max-jobs',
    default: () => 1,
    aliases: ['build-max-jobs'],
    description:
      "maximum number of builds run in parallel locally ('auto' = number of CPUs; 0 = only remote)",
  },
  cores: {
    type: 'uint',
    default: (ctx) => ctx.cpus,
    aliases: ['build-cores'],
    description: 'value of NIX_BUILD_CORES given to builders (0 = all CPUs)',
  },
  sandbox: {
    type: 'sandbox',
    default: () => true,
    aliases: ['build-use-chroot', 'build-use-sandbox'],
    description:
      "build in a sandbox: 'true', 'false', or 'relaxed' (derivations may opt out with __noChroot)",
  },
  'sandbox-fallback': {
    type: 'bool',
    default: () => true,
    description: 'build without a sandbox when the sandbox cannot be set up',
  },
  'sandbox-paths': {
    type: 'string-set',
    default: (ctx) => ctx.sandboxPaths ?? [],
    aliases: ['build-chroot-dirs', 'build-sandbox-paths'],
    description: "paths bind-mounted into the sandbox ('target=source', a trailing '?' makes one optional)",
  },
  'sandbox-build-dir': {
    type: 'string',
    default: () => '/build',
    description: 'build directory as the builder sees it inside the sandbox',
  },
  builders: {
    type: 'string',
    default: (ctx) => `@${ctx.confDir}/machines`,
    description: "remote build machines, separated by ';' or newlines, or '@FILE' to read them from a file",
  },
  'builders-use-substitutes': {
    type: 'bool',
    default: () => false,
    description: 'let remote builders fetch dependencies from their substituters',
  },
  'max-silent-time': {
    type: 'int',
    default: () => 0,
    aliases: ['build-max-silent-time'],
    description: 'seconds a builder may go without output before it is killed (0 = no limit)',
  },
  timeout: {
    type: 'int',
    default: () => 0,
    aliases: ['build-timeout'],
    description: 'seconds a builder may run before it is killed (0 = no limit)',
  },
  'keep-going': {
    type: 'bool',
    default: () => false,
    description: 'keep building other derivations after one fails',
  },
  'keep-failed': {
    type: 'bool',
    default: () => false,
    description: 'keep the build directory of failed builds',
  },
  'keep-build-log': {
    type: 'bool',
    default: () => true,
    aliases: ['build-keep-log'],
    description: 'store build logs in the log directory',
  },
  'compress-build-log': {
    type: 'bool',
    default: () => true,
    aliases: ['build-compress-log'],
    description: 'compress stored build logs with bzip2',
  },
  'max-build-log-size': {
    type: 'uint',
    default: () => 0,
    aliases: ['build-max-log-size'],
    description: 'bytes of output a builder may write before it is killed (0 = no limit)',
  },
  'log-lines': { type: 'uint', default: () => 10, description: 'lines of a failed build log to show' },
  substitute: {
    type: 'bool',
    default: () => true,
    aliases: ['build-use-substitutes'],
    description: 'use substituters',
  },
  substituters: {
    type: 'strings',
    // Unlike Nix (https://cache.nixos.org/), none by default: tix's own package set is not in
    // that cache, and a build should not reach out to the network unless configured to.
    default: () => [],
    aliases: ['binary-caches'],
    description:
      'URIs of stores to fetch paths from instead of building them, in order of preference (default: none, unlike Nix)',
  },
  'trusted-substituters': {
    type: 'strings',
    default: () => [],
    aliases: ['trusted-binary-caches'],
    description: 'substituters that untrusted users may enable',
  },
  'trusted-public-keys': {
    type: 'strings',
    default: () => ['cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY='],
    aliases: ['binary-cache-public-keys'],
    description: "public keys ('name:base64') whose signatures are accepted on substituted paths",
  },
  'require-sigs': {
    type: 'bool',
    default: () => true,
    description: 'require a trusted signature on paths copied from other stores',
  },
  'secret-key-files': {
    type: 'strings',
    default: () => [],
    description: 'files of secret keys used to sign locally built paths',
  },
  'trusted-users': {
    type: 'strings',
    default: () => ['root'],
    description: "users (or '@group') with extra rights on the daemon",
  },
  'allowed-users': {
    type: 'strings',
    default: () => ['*'],
    description: "users (or '@group', '*') allowed to connect to the daemon",
  },
  system: {
    type: 'string',
    default: (ctx) => ctx.system,
    description: 'system type of this machine, e.g. x86_64-linux',
  },
  'extra-platforms': {
    type: 'string-set',
    default: defaultExtraPlatforms,
    description: 'other system types this machine can build for',
  },
  'system-features': {
    type: 'string-set',
    default: defaultSystemFeatures,
    description: 'features this machine offers to derivations that require them (requiredSystemFeatures)',
  },
  'min-free': {
    type: 'uint64',
    default: () => 0n,
    description: 'start a garbage collection when free space drops below this many bytes (0 = never)',
  },
  'max-free': {
    type: 'uint64',
    default: () => UINT64_MAX,
    description: 'stop an automatic garbage collection once this many bytes are free',
  },
  'min-free-check-interval': {
    type: 'uint',
    default: () => 5,
    description: 'seconds between checks of free space for min-free',
  },
  'keep-derivations': {
    type: 'bool',
    default: () => true,
    aliases: ['gc-keep-derivations'],
    description: 'the garbage collector keeps the .drv of every live output',
  },
  'keep-outputs': {
    type: 'bool',
    default: () => false,
    aliases: ['gc-keep-outputs'],
    description: 'the garbage collector keeps the outputs of every live .drv',
  },
  'fsync-store-paths': {
    type: 'bool',
    default: () => false,
    description:
      'fsync the files of every store path before registering it (survives power loss, not only killed processes; as in current Nix, off by default)',
  },
  'auto-optimise-store': {
    type: 'bool',
    default: () => false,
    description:
      'hard-link identical files of every path as it is added to the store (as tix store optimise does)',
  },
  'connect-timeout': {
    type: 'uint',
    default: () => 0,
    description:
      'seconds allowed to connect to a substituter or remote builder, its handshake included (0 = no limit)',
  },
  'download-attempts': {
    type: 'uint',
    default: () => 5,
    description: 'times a substituter download is tried before it counts as failed',
  },
  'http-connections': {
    type: 'uint',
    default: () => 25,
    aliases: ['binary-caches-parallel-connections'],
    description: 'substitutions downloaded at once (0 = no limit)',
  },
  'hashed-mirrors': {
    type: 'strings',
    default: () => [],
    description:
      'mirrors tried first by builtin:fetchurl for flat fixed outputs: <mirror><algo>/<base16 hash>',
  },
  'pre-build-hook': {
    type: 'string',
    default: () => '',
    description: 'a program run before each sandboxed build with the .drv path; may add extra-sandbox-paths',
  },
  'post-build-hook': {
    type: 'string',
    default: () => '',
    description:
      'a program run after each build with DRV_PATH and OUT_PATHS set; its failure fails the build',
  },
  'build-users-group': {
    type: 'string',
    default: (ctx) => (ctx.uid === 0 ? 'nixbld' : ''),
    description:
      'group whose members builds run as when tix runs as root (empty = an automatic pool of uids)',
  },
  'auto-allocate-uids': {
    type: 'bool',
    // Nix 2.8 lacks it (later Nix has it, experimental and off): tix uses the automatic uid pool
    // whenever no build-users-group applies, unless this is turned off.
    default: () => true,
    description:
      'with an empty build-users-group, run builds under uids from an automatic pool (false: as the calling user, as Nix 2.8 does)',
  },
  // tix-specific: per-build limits, enforced in a per-build cgroup when a writable one exists,
  // else through rlimits (see src/build/limits.ts).
  'build-memory-max': {
    type: 'uint64',
    default: () => 0n,
    description: 'tix: memory limit of each local build in bytes (0 = none); exceeding it kills the build',
  },
  'build-pids-max': {
    type: 'uint',
    default: () => 0,
    description: 'tix: maximum number of processes and threads of each local build (0 = none)',
  },
  fallback: {
    type: 'bool',
    default: () => false,
    aliases: ['build-fallback'],
    description: 'build from source when a substitution fails',
  },
  'narinfo-cache-negative-ttl': {
    type: 'uint',
    default: () => 3600,
    description: 'seconds to remember that a binary cache lacks a path',
  },
  'narinfo-cache-positive-ttl': {
    type: 'uint',
    default: () => 30 * 24 * 3600,
    description: 'seconds to remember that a binary cache has a path',
  },
  'show-trace': { type: 'bool', default: () => false, description: 'print stack traces with errors' },
  'experimental-features': {
    type: 'features',
    default: () => [],
    description: 'experimental features to enable (e.g. nix-command, flakes)',
  },
  'nix-path': {
    type: 'strings',
    default: () => [],
    description: 'search path for <...> lookups in Nix expressions (like NIX_PATH)',
  },
  'pure-eval': {
    type: 'bool',
    default: () => false,
    description: 'evaluate without access to the environment',
  },
  'restrict-eval': {
    type: 'bool',
    default: () => false,
    description: 'evaluation may only read files under nix-path and allowed-uris',
  },
  'allowed-uris': {
    type: 'strings',
    default: () => [],
    description: 'URI prefixes that fetchers may access in restricted evaluation',
  },
  'allow-import-from-derivation': {
    type: 'bool',
    default: () => true,
    description: 'allow importing Nix expressions built during evaluation',
  },
  'tarball-ttl': {
    type: 'uint',
    default: () => 3600,
    description: 'seconds a downloaded tarball or file is considered fresh',
  },
};

/** Every name and alias → the supported setting it sets. */
export const SETTING_BY_NAME: ReadonlyMap<string, SettingName> = (() => {
  const m = new Map<string, SettingName>();
  for (const [name, def] of Object.entries(SETTINGS) as [SettingName, SettingDef<unknown>][]) {
    m.set(name, name);
    for (const a of def.aliases ?? []) m.set(a, name);
  }
  return m;
})();
