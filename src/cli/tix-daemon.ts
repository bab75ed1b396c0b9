// Entry point of `bin/tix-daemon`, tix's `nix-daemon`: `tix-daemon --stdio` serves one trusted
// client on stdin/stdout (what `ssh-ng://host?remote-program=tix-daemon` runs on the remote), or,
// when its store is a running daemon (`daemon`, `unix://…`, `auto` with the socket present),
// forwards the session to that daemon as nix-daemon --stdio does;
// without `--stdio` it listens on the store's daemon socket like `tix daemon`. Options:
// `--store URI`, `--option NAME VALUE`, `--listen PATH`.
import { commandUsage, HelpRequest } from './args.js';
import type { CommandContext } from './command.js';
import { daemon } from './commands/daemon.js';
import { withLogFilter } from './log-filter.js';
import { exitWhenDone, extractGlobalOptions, processContext } from './process.js';
import { reportError } from './report-error.js';

export async function runTixDaemon(argv: string[], ctx: Omit<CommandContext, 'global'>): Promise<number> {
  const { rest, global } = extractGlobalOptions(argv);
  try {
    // `--daemon` is accepted and ignored, as by nix-daemon.
    return await daemon.run(
      rest.filter((a) => a !== '--daemon'),
      { ...withLogFilter(ctx), global },
    );
  } catch (e) {
    if (e instanceof HelpRequest) {
      ctx.out.write(
        `usage: tix-daemon [--stdio] [--listen PATH] [--store URI] [--option NAME VALUE]\n\n${commandUsage(daemon.name, daemon.summary, e.spec).replace(/^usage: .*\n\n/, '')}`,
      );
      return 0;
    }
    return reportError(e, ctx.err, { showTrace: global.showTrace });
  }
}

export function main(argv: string[]): void {
  exitWhenDone(runTixDaemon(argv, processContext()));
}
