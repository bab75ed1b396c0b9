// What every `tix` subcommand is: a name, a one-line summary, and a handler that gets its arguments
// and a context, and returns an exit code. Handlers write results through ctx.out (never
// process.stdout directly) so that they can be tested without a terminal.
import type { Writable } from 'node:stream';

export interface CommandContext {
  out: Writable;
  err: Writable;
  /** Raw bytes of standard input, read lazily. */
  stdin: () => AsyncIterable<Uint8Array>;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Global options already removed from argv: `--option NAME VALUE` pairs, `--store`, etc. */
  global: GlobalOptions;
}

export interface GlobalOptions {
  options: Map<string, string>;
  store?: string;
  showTrace: boolean;
  debug: boolean;
  json: boolean;
  /**
   * Nix's verbosity relative to its default (info): `--quiet` lowers it, which leaves out
   * progress lines ("building '…'", what will be built); `-v` raises it.
   */
  verbosity?: number;
  /** False with -Q / --no-build-output: builders' output is not shown (it is still logged). */
  buildOutput?: boolean;
}

export interface Command {
  /** Words after `tix`, e.g. ['store', 'add'] or ['eval']. */
  name: string[];
  summary: string;
  run(argv: string[], ctx: CommandContext): Promise<number>;
}

/** Errors about how a command was called (unknown flag, missing argument): exit code 1. */
export class UsageError extends Error {
  readonly code = 'USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
