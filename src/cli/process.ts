// What the three executables share: the options every command accepts, the context of the real
// process, and (for the protocol servers, whose stdin may stay open) exiting once stderr is out.
// Kept apart from tix.ts so that tix-store and tix-daemon do not load every tix command.
import type { CommandContext, GlobalOptions } from './command.js';

/** Removes the options every command accepts (wherever they appear) and returns them. */
export function extractGlobalOptions(argv: string[]): { rest: string[]; global: GlobalOptions } {
  const global: GlobalOptions = { options: new Map(), showTrace: false, debug: false, json: false };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === '--option' && i + 2 < argv.length) {
      global.options.set(argv[i + 1]!, argv[i + 2]!);
      i += 2;
    } else if (
      (a === '--experimental-features' || a === '--extra-experimental-features') &&
      i + 1 < argv.length
    ) {
      // Nix takes any setting as a flag; these two are the ones scripts pass to every command.
      const name = a.slice(2);
      const prev = global.options.get(name);
      global.options.set(
        name,
        prev !== undefined && name.startsWith('extra-') ? `${prev} ${argv[++i]}` : argv[++i]!,
      );
    } else if (a === '--store' && i + 1 < argv.length) {
      global.store = argv[++i]!;
    } else if (a === '--show-trace') {
      global.showTrace = true;
    } else if (a === '--debug') {
      global.debug = true;
      global.showTrace = true;
    } else {
      rest.push(a);
    }
  }
  return { rest, global };
}

/** The context of this process: its standard streams, environment and working directory. */
export function processContext(): Omit<CommandContext, 'global'> {
  return {
    out: process.stdout,
    err: process.stderr,
    stdin: () => process.stdin,
    env: process.env,
    cwd: process.cwd(),
  };
}

/** Exits with the code once stderr is flushed: a protocol server's stdin may still be open. */
export function exitWhenDone(run: Promise<number>): void {
  run.then(
    (code) => process.stderr.write('', () => process.exit(code)),
    (e) => process.stderr.write(`error (internal): ${(e as Error).stack ?? e}\n`, () => process.exit(1)),
  );
}
