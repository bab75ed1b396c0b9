// `tix show-config [--json]` = `nix show-config` of Nix 2.8: the settings in effect after the
// configuration files, TIX_CONFIG / NIX_CONFIG and --option, one `name = value` line each in name
// order; with --json, an object of { aliases, defaultValue, description, documentDefault, value }
// per setting, as 2.8 prints it (but experimental features by name, where 2.8 writes the numbers
// of its enum). Only the settings tix implements are listed.
import type { SettingEntry } from '../../config/settings.js';
import { flagSet, parseArgs } from '../args.js';
import { cliSettings } from '../cli-settings.js';
import { type Command, UsageError } from '../command.js';

/** A setting's value as JSON text (a 64-bit size such as max-free stays exact). */
function jsonValue(v: unknown): string {
  return typeof v === 'bigint' ? v.toString() : JSON.stringify(v);
}

export function showConfigJson(entries: SettingEntry[]): string {
  const fields = entries.map(
    (e) =>
      `${JSON.stringify(e.name)}:{"aliases":${JSON.stringify(e.aliases)},"defaultValue":${jsonValue(e.default)},"description":${JSON.stringify(e.description)},"documentDefault":true,"value":${jsonValue(e.current)}}`,
  );
  return `{${fields.join(',')}}\n`;
}

export const showConfig: Command = {
  name: ['show-config'],
  summary: 'print the settings in effect, as nix.conf lines or JSON (like nix show-config)',
  async run(argv, ctx) {
    const args = parseArgs(argv, { '--json': { arity: 0 } });
    if (args.positional.length > 0) throw new UsageError("'tix show-config' takes no arguments");
    const entries = cliSettings(ctx).entries();
    if (flagSet(args, '--json') || ctx.global.json) ctx.out.write(showConfigJson(entries));
    else ctx.out.write(entries.map((e) => `${e.name} = ${e.value}\n`).join(''));
    return 0;
  },
};
