// Errors of builtins.fromTOML, worded and laid out as Nix 2.8's TOML reader (toml11 3.7) words them:
//   [error] toml::parse_key: an invalid key appeared.
//    --> fromTOML
//      |
//    1 | ./a =
//      | ^--- is not a valid key
// The first line is toml11's own; the rest points at the places involved (format_underline in
// toml11's source_location.hpp).

export class TomlError extends Error {
  constructor(
    readonly code: 'BAD_TOML' | 'TOML_DATETIME',
    message: string,
  ) {
    // Nix 2.8 passes toml11's message on as a C string, which ends at a NUL.
    const nul = message.indexOf('\0');
    super(nul < 0 ? message : message.slice(0, nul));
    this.name = 'TomlError';
  }
}

/**
 * A place in a text: one character (`point`, shown `^---`) or a span (shown `~~~`). `src` is the
 * text the parser was reading, which for a dotted key or a date-time is that token alone.
 */
export interface Spot {
  src: string;
  first: number;
  last: number;
  point: boolean;
}

export const pointAt = (src: string, i: number): Spot => ({ src, first: i, last: i + 1, point: true });
export const span = (src: string, first: number, last: number): Spot => ({ src, first, last, point: false });

/**
 * A parse failure that a caller may still recover from by trying another rule (toml11's `err(...)`
 * results). It is formatted only when it becomes the error.
 */
export class Fail {
  constructor(
    readonly msg: string,
    readonly notes: [Spot, string][],
    readonly hints: string[] = [],
  ) {}
  error(): TomlError {
    return new TomlError('BAD_TOML', formatUnderline(this.msg, this.notes, this.hints));
  }
}

/** A failure no caller recovers from (toml11's thrown syntax_error). */
export function syntaxError(msg: string, notes: [Spot, string][], hints: string[] = []): TomlError {
  return new Fail(msg, notes, hints).error();
}

interface Shown {
  line: number;
  column: number;
  size: number;
  text: string;
}

/** Line (1-based), column (1-based, in bytes), size and the source line of a spot. */
function show(sp: Spot): Shown {
  const { src, first, last } = sp;
  const lineBegin = first === 0 ? 0 : src.lastIndexOf('\n', first - 1) + 1;
  let line = 1;
  for (let k = src.indexOf('\n'); k >= 0 && k < first; k = src.indexOf('\n', k + 1)) line++;
  const lineEnd = (from: number) => {
    const e = src.indexOf('\n', from);
    return e < 0 ? src.length : e;
  };
  let text: string;
  if (sp.point) text = src.slice(lineBegin, lineEnd(first));
  else {
    // A span over several lines shows its first line only.
    const nl = src.indexOf('\n', first);
    text = nl >= 0 && nl < last ? src.slice(lineBegin, nl) : src.slice(lineBegin, lineEnd(last));
  }
  return { line, column: first - lineBegin + 1, size: sp.point ? 1 : last - first, text };
}

function formatUnderline(msg: string, notes: [Spot, string][], hints: string[]): string {
  const shown = notes.map(([sp, comment]) => ({ ...show(sp), comment }));
  const width = Math.max(1, ...shown.map((s) => String(s.line).length));
  const bar = `${' '.repeat(width + 1)} |`;
  let out = `[error] ${msg}\n --> fromTOML\n${bar}\n`;
  out += shown
    .map((s) => {
      const mark = s.size === 1 ? '^---' : '~'.repeat(Math.min(s.size, s.text.length));
      return ` ${String(s.line).padStart(width)} | ${s.text}\n${bar} ${' '.repeat(s.column - 1)}${mark} ${s.comment}`;
    })
    .join('\n ...\n');
  if (hints.length > 0) out += `\n${bar}${hints.map((h) => `\nHint: ${h}`).join('')}`;
  return out;
}
