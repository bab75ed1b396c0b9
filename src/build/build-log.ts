// A build's log: every byte goes to the log file, complete lines go to the caller (for live
// streaming) and the last `logLines` lines are kept for the failure message, with Nix's line
// handling ('\r' returns to the start of the current line).
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export class BuildLog {
  readonly tail: string[] = [];
  #fd: number | undefined;
  #line: number[] = [];
  #pos = 0;
  #maxTail: number;
  #onLine: ((line: string) => void) | undefined;

  constructor(file: string | undefined, opts: { logLines: number; onLine?: (line: string) => void }) {
    if (file !== undefined) {
      mkdirSync(dirname(file), { recursive: true });
      this.#fd = openSync(file, 'w', 0o644);
    }
    this.#maxTail = opts.logLines;
    this.#onLine = opts.onLine;
  }

  write(chunk: Uint8Array): void {
    if (this.#fd !== undefined) writeSync(this.#fd, chunk);
    for (const c of chunk) {
      if (c === 0x0d) this.#pos = 0;
      else if (c === 0x0a) this.#flushLine();
      else {
        this.#line[this.#pos++] = c;
      }
    }
  }

  /** A line from tix itself (not the builder), e.g. "building '…'". */
  note(line: string): void {
    this.write(Buffer.from(`${line}\n`));
  }

  #flushLine(): void {
    const line = Buffer.from(this.#line).toString('utf8');
    this.#line = [];
    this.#pos = 0;
    this.#onLine?.(line);
    if (this.#maxTail > 0) {
      this.tail.push(line);
      if (this.tail.length > this.#maxTail) this.tail.shift();
    }
  }

  close(): void {
    if (this.#line.length > 0) this.#flushLine();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
