// Entry point of `bin/tix`: global options, dispatch to a subcommand, and error reporting.

import { TIX_VERSION } from '../store/version.js';
import { commandUsage, HelpRequest } from './args.js';
import type { CommandContext } from './command.js';
import { type CommandEntry, commands } from './commands/index.js';
import { withLogFilter } from './log-filter.js';
import { extractGlobalOptions, processContext } from './process.js';
import { reportError } from './report-error.js';

/** Finds the command whose name is the longest prefix of argv. */
export function findCommand(argv: string[]): { entry: CommandEntry; args: string[] } | undefined {
  let best: CommandEntry | undefined;
  for (const c of commands) {
    if (c.name.length <= argv.length && c.name.every((w, i) => argv[i] === w)) {
      if (!best || c.name.length > best.name.length) best = c;
    }
  }
  return best ? { entry: best, args: argv.slice(best.name.length) } : undefined;
}

/** The help text; it loads every command's module for its summary. */
export async function usage(): Promise<string> {
  const lines = [
    'usage: tix COMMAND [ARGS...] [--store URI] [--option NAME VALUE] [--show-trace]',
    '',
    'commands:',
  ];
  const loaded = await Promise.all(commands.map((c) => c.load()));
  const sorted = loaded.sort((a, b) => a.name.join(' ').localeCompare(b.name.join(' ')));
  for (const c of sorted) lines.push(`  ${c.name.join(' ').padEnd(22)} ${c.summary}`);
  return lines.join('\n') + '\n';
}

export async function runTix(argv: string[], base: Omit<CommandContext, 'global'>): Promise<number> {
  const { rest: given, global } = extractGlobalOptions(argv);
  // `tix help store gc` is `tix store gc --help`.
  const rest = given[0] === 'help' && given.length > 1 ? [...given.slice(1), '--help'] : given;
  const ctx: CommandContext = { ...withLogFilter(base), global };
  try {
    if (rest.length === 0 || rest[0] === '--help' || rest[0] === 'help') {
      ctx.out.write(await usage());
      return rest.length === 0 ? 1 : 0;
    }
    if (rest[0] === '--version') {
      ctx.out.write(`tix ${TIX_VERSION} (Nix-compatible with Nix 2.8)\n`);
      return 0;
    }
    const found = findCommand(rest);
    if (!found) {
      ctx.err.write(
        `error: unknown command '${(rest === given ? rest : given.slice(1)).join(' ')}'\n\n${await usage()}`,
      );
      return 1;
    }
    const command = await found.entry.load();
    try {
      return await command.run(found.args, ctx);
    } catch (e) {
      if (!(e instanceof HelpRequest)) throw e;
      ctx.out.write(commandUsage(command.name, command.summary, e.spec));
      return 0;
    }
  } catch (e) {
    return reportError(e, ctx.err, { showTrace: global.showTrace });
  }
}

export function main(argv: string[]): void {
  runTix(argv, processContext()).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.exitCode = reportError(e, process.stderr, { showTrace: true });
    },
  );
}
