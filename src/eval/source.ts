// A parsed source text and offset → line:column mapping. Source text is a "byte string": each
// JavaScript char holds one byte (latin1), so Nix's byte-string semantics hold everywhere.

export class Source {
  /** Where the lines shown in excerpts start: after each LF. */
  private lineStarts: number[] | undefined;
  /** Where lines start for positions: also after a lone CR, which Nix 2.8's lexer counts as one. */
  private posStarts: number[] | undefined;
  constructor(
    /** File path, or undefined for an expression given on the command line. */
    readonly path: string | undefined,
    readonly text: string,
    /**
     * Whether errors show its lines: not for a text built into the evaluator under a file name
     * (Nix 2.8 reads the lines from the file, which does not exist).
     */
    readonly excerpts = true,
  ) {}

  /** How Nix 2.8 names the origin in an error's location line. */
  get origin(): string {
    return this.path ?? '\xc2\xabstring\xc2\xbb';
  }

  /** How Nix 2.8 names the origin in a position within a message ("already defined at …"). */
  get inlineOrigin(): string {
    return this.path ?? '(string)';
  }

  private starts(): number[] {
    if (!this.lineStarts) {
      const ls = [0];
      const t = this.text;
      for (let i = 0; i < t.length; i++) if (t.charCodeAt(i) === 10) ls.push(i + 1);
      this.lineStarts = ls;
    }
    return this.lineStarts;
  }

  lineCol(offset: number): { line: number; col: number } {
    if (!this.posStarts) {
      const t = this.text;
      if (!/\r(?!\n)/.test(t)) this.posStarts = this.starts();
      else {
        const ps = [0];
        for (let i = 0; i < t.length; i++) {
          const c = t.charCodeAt(i);
          if (c === 10 || (c === 13 && t.charCodeAt(i + 1) !== 10)) ps.push(i + 1);
        }
        this.posStarts = ps;
      }
    }
    const ls = this.posStarts;
    let lo = 0;
    let hi = ls.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ls[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - ls[lo]! + 1 };
  }

  /** Line n when a newline ends it (the text after the last newline is no line here). */
  terminatedLine(n: number): string | undefined {
    return n < this.starts().length ? this.line(n) : undefined;
  }

  line(n: number): string | undefined {
    const ls = this.starts();
    if (n < 1 || n > ls.length) return undefined;
    const start = ls[n - 1]!;
    const end = n < ls.length ? ls[n]! - 1 : this.text.length;
    return this.text.slice(start, end).replace(/\r$/, '');
  }
}

/** A position: a source and a byte offset in it. */
export interface Pos {
  src: Source;
  off: number;
}

/** A position as Nix 2.8 shows one inside a message: `file:line:col`, `(string):line:col`. */
export function showPos(p: Pos): string {
  const { line, col } = p.src.lineCol(p.off);
  return `${p.src.inlineOrigin}:${line}:${col}`;
}

/** Converts a JS (UTF-16) string to a byte string (UTF-8 bytes, one per char). */
export function toBytes(s: string): string {
  // Fast path: pure ASCII strings are their own encoding.
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 127) return Buffer.from(s, 'utf8').toString('latin1');
  }
  return s;
}

/** Converts a byte string back to a JS string, decoding UTF-8. */
export function fromBytes(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 127) return Buffer.from(s, 'latin1').toString('utf8');
  }
  return s;
}

export function bytesOf(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}
