// Where settings come from, in Nix's order (later wins): the system file `$TIX_CONF_DIR/tix.conf`
// (default /etc/tix/tix.conf), the user files (`$TIX_USER_CONF_FILES`, colon-separated, or else
// `tix/tix.conf` under $XDG_CONFIG_HOME (~/.config) and each of $XDG_CONFIG_DIRS (/etc/xdg), the
// first listed winning), the contents of `$TIX_CONFIG` (like NIX_CONFIG; includes relative to the
// working directory), then command-line overrides (`--option NAME VALUE` and dedicated flags).
import { accessSync, constants, readFileSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { hostX86Levels } from './cpu-levels.js';
import type { ConfigOrigin } from './errors.js';
import { parseConfig } from './parse.js';
import type { DefaultContext } from './registry.js';
import { Settings } from './settings.js';

export interface LoadSettingsOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Command-line settings in the order given: [name, value] or [name, value, source such as '--max-jobs']. */
  overrides?: Iterable<readonly [string, string] | readonly [string, string, string]>;
  /** Replaces the file system (tests); returns undefined for a missing file. */
  readFile?: (path: string) => string | undefined;
  /** Pins machine-dependent defaults (tests). */
  defaults?: Partial<DefaultContext>;
}

export function loadSettings(opts: LoadSettingsOptions): Settings {
  const { env } = opts;
  const readFile = opts.readFile ?? readFileIfExists;
  const confDir = env.TIX_CONF_DIR || '/etc/tix';
  const settings = new Settings(machineDefaults(confDir, opts.defaults));

  const apply = (text: string, file: string, override: boolean, baseDir?: string) => {
    for (const a of parseConfig(text, { file, baseDir, readFile })) {
      settings.set(a.name, a.value, a.origin, { override });
    }
  };
  const systemFile = join(confDir, 'tix.conf');
  const systemText = readFile(systemFile);
  if (systemText !== undefined) apply(systemText, systemFile, false);

  for (const file of userConfigFiles(env).reverse()) {
    const text = readFile(file);
    if (text !== undefined) apply(text, file, true);
  }
  if (env.TIX_CONFIG !== undefined) apply(env.TIX_CONFIG, 'TIX_CONFIG', true, opts.cwd);

  for (const [name, value, source] of opts.overrides ?? []) {
    const origin: ConfigOrigin = { file: source ?? '--option', line: 0 };
    settings.set(name, value, origin, { override: true });
  }
  return settings;
}

/** The user configuration files, highest priority first. */
export function userConfigFiles(env: NodeJS.ProcessEnv): string[] {
  if (env.TIX_USER_CONF_FILES !== undefined)
    return env.TIX_USER_CONF_FILES.split(':').filter((f) => f !== '');
  const home = env.HOME || homedir();
  const configHome = env.XDG_CONFIG_HOME || join(home, '.config');
  const dirs = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter((d) => d !== '');
  return [configHome, ...dirs].map((d) => join(d, 'tix', 'tix.conf'));
}

function readFileIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * This machine's facts for the defaults, with `pinned` in place of any of them. The CPU levels are
 * read (CPUID, through a native addon) only if a default needs them: extra-platforms, which most
 * commands never look at.
 */
function machineDefaults(confDir: string, pinned: Partial<DefaultContext> = {}): DefaultContext {
  const { cpuLevels, ...rest } = pinned;
  return {
    confDir,
    uid: process.getuid?.() ?? 1000,
    system: nixSystem(process.arch, process.platform),
    cpus: availableParallelism(),
    kvm: canAccess('/dev/kvm'),
    get cpuLevels() {
      return cpuLevels ?? hostX86Levels(); // hostX86Levels reads the CPU once
    },
    ...rest,
  };
}

function canAccess(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Node's arch/platform as a Nix system double. */
export function nixSystem(arch: string, platform: string): string {
  const cpu: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', arm: 'armv7l' };
  const os = platform === 'darwin' ? 'darwin' : platform;
  return `${cpu[arch] ?? arch}-${os}`;
}
