// Turns an error into Nix-style output on stderr and an exit code. Errors of a tix domain (they carry
// a string `code`) print as one `error: …` line, plus a hint when present; anything else is a bug
// and prints its stack. `--show-trace`/`--debug` add the stack and any evaluation trace.
import type { Writable } from 'node:stream';
import { sourceMappedStack } from './stack-map.js';

interface DomainError extends Error {
  code: string;
  hint?: string;
  /** Preferred process exit code (e.g. 100 for a failed build). */
  exitCode?: number;
  /** Already formatted multi-line text (e.g. an evaluation error with its source excerpt). */
  format?: (opts: { showTrace: boolean }) => string;
  /** The same as a byte string (an evaluation error's message bytes need not be UTF-8). */
  formatBytes?: (opts: { showTrace: boolean }) => string;
}

function isDomainError(e: unknown): e is DomainError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string';
}

export function reportError(e: unknown, err: Writable, opts: { showTrace: boolean }): number {
  if (isDomainError(e)) {
    if (e.formatBytes) {
      const bytes = e.formatBytes(opts);
      err.write(Buffer.from(bytes.endsWith('\n') ? bytes : `${bytes}\n`, 'latin1'));
    } else {
      // Continuation lines line up after "error: ", as Nix prints them.
      const text = e.format ? e.format(opts) : `error: ${e.message.replaceAll('\n', '\n       ')}`;
      // An empty text: the error was already shown where it happened (e.g. a build failure).
      if (text !== '') err.write(text.endsWith('\n') ? text : text + '\n');
    }
    if (e.hint) err.write(`hint: ${e.hint}\n`);
    if (opts.showTrace && e.stack) err.write(`${sourceMappedStack(e.stack)}\n`);
    return e.exitCode ?? 1;
  }
  const stack = e instanceof Error ? (e.stack ?? e.message) : String(e);
  err.write(`error (internal): ${sourceMappedStack(stack)}\n`);
  return 1;
}
