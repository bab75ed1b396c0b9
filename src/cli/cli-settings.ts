// Settings for a command: the configuration files and TIX_CONFIG, then `--option NAME VALUE`,
// then the command's own flags (e.g. `--max-jobs 4`). Warnings are printed as Nix prints them.
import { defaultSandboxPaths } from '../build/sandbox.js';
import { loadSettings } from '../config/load.js';
import type { Settings } from '../config/settings.js';
import type { CommandContext } from './command.js';

/** [setting name, value, flag that gave it] for dedicated flags such as `--cores 4`. */
export type FlagSetting = readonly [string, string, string];

export function cliSettings(ctx: CommandContext, flags: FlagSetting[] = []): Settings {
  const settings = loadSettings({
    env: ctx.env,
    cwd: ctx.cwd,
    overrides: [...[...ctx.global.options].map(([n, v]) => [n, v, '--option'] as const), ...flags],
    // So that `extra-sandbox-paths` adds to the /bin/sh that builds get by default.
    defaults: { sandboxPaths: defaultSandboxPaths() },
  });
  for (const w of settings.warnings) ctx.err.write(`warning: ${w}\n`);
  return settings;
}
