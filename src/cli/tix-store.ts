// Entry point of `bin/tix-store`: the server side of remote stores. `tix-store --serve [--write]`
// speaks the serve protocol on stdin/stdout against this machine's store (`--store URI`, else
// $TIX_STORE, else the `store` setting), like `nix-store --serve [--write]`; build logs and the
// final `error: …` go to stderr.

import { StreamOutput } from '../distribute/stream-output.js';
import { serveStore } from '../server/serve.js';
import { type DelegateBuildStore, localServeBuilder, storeServeBuilder } from '../server/serve-build.js';
import { DaemonStore } from '../store/daemon.js';
import type { Store } from '../store/store.js';
import { applyAutoGcSettings, isLocalBuildStore, localBuildOptions } from './build-settings.js';
import { cliSettings } from './cli-settings.js';
import type { CommandContext } from './command.js';
import { withLogFilter } from './log-filter.js';
import { openCliStore } from './open-store.js';
import { growPipe, serverStdin } from './pipe-size.js';
import { exitWhenDone, extractGlobalOptions, processContext } from './process.js';
import { reportError } from './report-error.js';
import { type Substitution, substitutionFromSettings } from './substitute-hook.js';

/** A daemon (worker-protocol) store builds by itself, so serving it can hand builds over. */
function canDelegateBuilds(store: Store): store is DelegateBuildStore {
  return store instanceof DaemonStore;
}

const USAGE = 'usage: tix-store --serve [--write] [--store URI] [--option NAME VALUE]\n';

export async function runTixStore(argv: string[], ctx: Omit<CommandContext, 'global'>): Promise<number> {
  const { rest, global } = extractGlobalOptions(argv);
  const full: CommandContext = { ...withLogFilter(ctx), global };
  let serve = false;
  let write = false;
  for (const a of rest) {
    if (a === '--help') {
      ctx.out.write(USAGE);
      return 0;
    }
    if (a === '--serve') serve = true;
    else if (a === '--write') write = true;
    else {
      ctx.err.write(`error: unknown argument '${a}'\n${USAGE}`);
      return 1;
    }
  }
  if (!serve) {
    ctx.err.write(USAGE);
    return 1;
  }
  let store: Store | undefined;
  let substitution: Substitution | undefined;
  try {
    const settings = cliSettings(full);
    store = await openCliStore(full, settings);
    applyAutoGcSettings(store, settings, (msg) => ctx.err.write(`${msg}\n`));
    const builder = isLocalBuildStore(store)
      ? localServeBuilder(store, localBuildOptions(settings, ctx.env))
      : canDelegateBuilds(store)
        ? storeServeBuilder(store)
        : undefined;
    // builders-use-substitutes: this machine's own substituters, with its own settings.
    if (write) {
      substitution = substitutionFromSettings(store, settings, {
        env: ctx.env,
        log: (line) => ctx.err.write(`${line}\n`),
      });
    }
    const input = serverStdin();
    growPipe(1);
    const output = new StreamOutput(process.stdout);
    await serveStore(
      store,
      {
        pull: input.pull,
        onEnd: (f) => input.onEnd(f),
        write: (chunks, onWritten) => output.write(chunks, onWritten),
        log: (chunk) => ctx.err.write(chunk),
      },
      { write, builder, substitute: substitution?.prefetch },
    );
    await output.end();
    return 0;
  } catch (e) {
    return reportError(e, ctx.err, { showTrace: global.showTrace });
  } finally {
    await substitution?.close();
    await store?.close();
  }
}

export function main(argv: string[]): void {
  exitWhenDone(runTixStore(argv, processContext()));
}
