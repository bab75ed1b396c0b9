// What Nix 2.8's logger does to every message it writes to stderr (an error, a warning, a trace, a
// line of build output): escape sequences are dropped — all of them when stderr is not a colour
// terminal, all but colour (SGR) sequences when it is — as are CR and BEL, and a tab becomes spaces
// up to the next multiple of 8 characters counted from the start of the message. So a message
// with colours of its own (nixpkgs' module system colours some errors) or tabs reads the same as
// with Nix, and a script matching it sees the same bytes.
import { Writable } from 'node:stream';

const ESC = 0x1b;
const TAB = 0x09;
const CR = 0x0d;
const BEL = 0x07;

/** Whether Nix 2.8 would keep colours: stderr is a terminal, TERM is set and not dumb, no NO_COLOR. */
export function colourTerminal(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  const term = env.TERM ?? 'dumb';
  return stream.isTTY === true && term !== 'dumb' && env.NO_COLOR === undefined;
}

/** Length of the UTF-8 character starting at `i` (a lead byte and the continuation bytes present). */
function charLength(s: Uint8Array, i: number): number {
  const b = s[i]!;
  const want = (b & 0xe0) === 0xc0 ? 1 : (b & 0xf0) === 0xe0 ? 2 : (b & 0xf8) === 0xf0 ? 3 : 0;
  let n = 1;
  while (n <= want && i + n < s.length && (s[i + n]! & 0xc0) === 0x80) n++;
  return n;
}

/** One message as the logger writes it (see the file comment); `keepColours` keeps SGR sequences. */
export function filterMessage(s: Uint8Array, keepColours: boolean): Uint8Array {
  if (s.indexOf(ESC) < 0 && s.indexOf(TAB) < 0 && s.indexOf(CR) < 0 && s.indexOf(BEL) < 0) return s;
  const out: number[] = [];
  let width = 0;
  let i = 0;
  while (i < s.length) {
    const b = s[i]!;
    if (b === ESC) {
      const start = i++;
      let final = 0;
      if (s[i] === 0x5b /* [ */) {
        i++;
        while (i < s.length && s[i]! >= 0x30 && s[i]! <= 0x3f) i++; // parameter bytes
        while (i < s.length && s[i]! >= 0x20 && s[i]! <= 0x2f) i++; // intermediate bytes
        if (i < s.length && s[i]! >= 0x40 && s[i]! <= 0x7e) final = s[i++]!;
      } else if (i < s.length && s[i]! >= 0x40 && s[i]! <= 0x5f) i++;
      if (keepColours && final === 0x6d /* m */) for (let j = start; j < i; j++) out.push(s[j]!);
    } else if (b === TAB) {
      i++;
      do {
        out.push(0x20);
        width++;
      } while (width % 8 !== 0);
    } else if (b === CR || b === BEL) {
      i++;
    } else {
      const n = charLength(s, i);
      for (let j = 0; j < n; j++) out.push(s[i + j]!);
      i += n;
      width++;
    }
  }
  return Uint8Array.from(out);
}

/** A stream that writes each chunk written to it (one message) through filterMessage to `to`. */
export class LogStream extends Writable {
  readonly isTTY: boolean;
  constructor(
    private readonly to: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly keepColours: boolean,
  ) {
    super({ decodeStrings: true });
    this.isTTY = to.isTTY === true;
  }

  // Done at once: the stream below keeps the order (and process.stderr writes synchronously), so
  // nothing waits here when the process exits.
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (e?: Error | null) => void): void {
    this.to.write(filterMessage(chunk, this.keepColours));
    done();
  }
}

/** The context with its stderr written as Nix's logger writes (each write one message). */
export function withLogFilter<
  C extends { err: NodeJS.WritableStream & { isTTY?: boolean }; env: NodeJS.ProcessEnv },
>(ctx: C): C {
  return { ...ctx, err: new LogStream(ctx.err, colourTerminal(ctx.err, ctx.env)) };
}
