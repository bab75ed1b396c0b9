// One error class for the Nix language. `code` says which kind (PARSE, TYPE, THROW, ASSERT, ABORT,
// UNDEFINED_VAR, INFINITE_RECURSION, MISSING_ATTR, ...); `catchable` marks what `tryEval` catches.
// `format` renders it the way Nix 2.8 does: the message, the position with the source excerpt, and
// with showTrace the "… while evaluating" frames.
import { type Hash, printHash } from '../formats/hash.js';
import { fromBytes, type Pos, toBytes } from './source.js';

export interface TraceFrame {
  pos: Pos | undefined;
  message: string;
  /** Recorded only for --show-trace (function call frames, as Nix 2.8 does). */
  verbose?: boolean;
}

const CATCHABLE = new Set(['THROW', 'ASSERT', 'SEARCH_PATH']);

export class NixEvalError extends Error {
  readonly trace: TraceFrame[] = [];
  /** Text printed after the excerpt (e.g. "Did you mean z?"). */
  hint?: string;
  constructor(
    readonly code: string,
    message: string,
    public pos?: Pos,
  ) {
    super(message);
    this.name = 'NixEvalError';
  }

  get catchable(): boolean {
    return CATCHABLE.has(this.code);
  }

  addTrace(pos: Pos | undefined, message: string, verbose = false): this {
    this.trace.push({ pos, message, verbose });
    return this;
  }

  /** The error as text (a JavaScript string; bytes that are not UTF-8 become U+FFFD). */
  format(opts: { showTrace: boolean }): string {
    return fromBytes(this.formatBytes(opts));
  }

  /** The error as Nix 2.8 prints it, as a byte string: a message's bytes are written as they are. */
  formatBytes(opts: { showTrace: boolean }): string {
    let body = `${this.message}\n`;
    body += excerpt(this.pos);
    if (this.hint) body += `${this.hint}\n`;
    if (opts.showTrace) {
      for (const f of this.trace) {
        body += `\n${ELLIPSIS} ${f.message}\n`;
        body += excerpt(f.pos);
      }
    }
    let out = `${layoutMessage('error', body)}\n`;
    if (!opts.showTrace && this.trace.some((f) => !f.verbose)) {
      out += "(use '--show-trace' to show detailed location information)\n";
    }
    return out;
  }
}

/** Trailing spaces, tabs, CRs and newlines removed (Nix's chomp). */
function chomp(s: string): string {
  return s.replace(/[ \n\r\t]+$/, '');
}

/**
 * A message laid out as Nix 2.8 shows errors and warnings: "error: " before the first line, as many
 * spaces before the others, trailing blanks dropped from each line and from the whole.
 */
export function layoutMessage(level: 'error' | 'warning', body: string): string {
  const prefix = `${level}: `;
  const rest = ' '.repeat(prefix.length);
  return chomp(body)
    .split('\n')
    .map((line, i) => chomp((i === 0 ? prefix : rest) + line))
    .join('\n');
}

/** "…" as UTF-8 bytes. */
const ELLIPSIS = '\xe2\x80\xa6';

/** The position and the source lines around it (bytes), as the part of a message that follows it. */
function excerpt(pos: Pos | undefined): string {
  if (!pos) return '';
  const { line, col } = pos.src.lineCol(pos.off);
  // As 2.8: without source lines, what follows comes right after the colon.
  let out = `\nat ${pos.src.origin}:${line}:${col}:`;
  // Nix 2.8 reads a file's lines up to their newline: a last line without one is not shown, and
  // when that is the erring line, no lines are.
  const src = pos.src;
  if (!src.excerpts) return out;
  const lineText = (n: number) => (src.path !== undefined ? src.terminatedLine(n) : src.line(n));
  if (lineText(line) === undefined) return out;
  out += '\n\n';
  for (let l = line - 1; l <= line + 1; l++) {
    const text = lineText(l);
    if (text === undefined) continue;
    out += ` ${String(l).padStart(5)}| ${text}\n`;
    if (l === line) out += `      |${' '.repeat(col)}^\n`;
  }
  return out;
}

export function evalError(code: string, message: string, pos?: Pos): NixEvalError {
  return new NixEvalError(code, message, pos);
}

/** The C library's text for common errno codes, which Nix's system errors end with. */
const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  EEXIST: 'File exists',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  EMFILE: 'Too many open files',
  EIO: 'Input/output error',
};

/** An I/O error's reason as Nix prints it ("No such file or directory"), else its message. */
export function sysErrorText(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  const text = typeof code === 'string' ? ERRNO_TEXT[code] : undefined;
  return text ?? (e as Error)?.message ?? String(e);
}

/** What Nix 2.8 says it was doing when a system call on a file failed. */
const SYSCALL_WHAT: Record<string, string> = {
  lstat: 'getting status of',
  stat: 'getting status of',
  open: 'opening file',
  scandir: 'opening directory',
  opendir: 'opening directory',
  readlink: 'reading symbolic link',
};

/**
 * A failed file operation worded as Nix 2.8 words it ("getting status of '/p': No such file or
 * directory"), or undefined for an error that is not one. `path` (Nix's byte string) is named,
 * or the path below it that failed (not the file a store path is kept in).
 */
export function fileErrorText(e: unknown, path: string): string | undefined {
  const { syscall, path: failed } = e as { syscall?: unknown; path?: unknown };
  if (syscall === 'read') return `reading from file: ${sysErrorText(e)}`;
  const what = typeof syscall === 'string' ? SYSCALL_WHAT[syscall] : undefined;
  if (what === undefined) return undefined;
  const below = typeof failed === 'string' && failed.startsWith(`${fromBytes(path)}/`);
  const shown = below ? toBytes(failed) : path;
  return `${what} '${shown}': ${sysErrorText(e)}`;
}

/** Nix 2.8's error for fetched content whose hash is not the one given. */
export function hashMismatchError(origin: string, specified: Hash, got: Hash): NixEvalError {
  const show = (h: Hash) => printHash(h, 'nix32', { prefix: true });
  return new NixEvalError(
    'HASH_MISMATCH',
    `hash mismatch in file downloaded from '${origin}':\n  specified: ${show(specified)}\n  got:       ${show(got)}`,
  );
}
