// Parses nix.conf syntax as Nix 2.8 does: `#` starts a comment anywhere on a line, the rest is
// split on whitespace, `name = value…` sets (the value tokens joined by one space), `include PATH`
// and `!include PATH` read another file (relative to the including file's directory; `!include`
// ignores a missing file). `name=value` without spaces is an illegal line, as in Nix.
import { dirname, resolve } from 'node:path';
import { ConfigError, type ConfigOrigin, formatOrigin } from './errors.js';

/** One `name = value` assignment with the place it was written. */
export interface ConfigAssignment {
  name: string;
  value: string;
  origin: ConfigOrigin;
}

export interface ParseConfigOptions {
  /** Name of the source for messages and for resolving includes ("/etc/tix/tix.conf", "TIX_CONFIG"). */
  file: string;
  /** Directory that relative includes are resolved against; defaults to dirname(file). */
  baseDir?: string;
  /** Contents of an included file, or undefined when it does not exist. */
  readFile: (path: string) => string | undefined;
}

const MAX_INCLUDE_DEPTH = 32;

export function parseConfig(text: string, opts: ParseConfigOptions): ConfigAssignment[] {
  const out: ConfigAssignment[] = [];
  parseInto(text, opts, out, 0);
  return out;
}

function parseInto(text: string, opts: ParseConfigOptions, out: ConfigAssignment[], depth: number): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const origin = { file: opts.file, line: i + 1 };
    let line = lines[i]!;
    const hash = line.indexOf('#');
    if (hash >= 0) line = line.slice(0, hash);
    const tokens = line.split(/[ \t\r]+/).filter((t) => t !== '');
    if (tokens.length === 0) continue;
    const illegal = () =>
      new ConfigError(
        'BAD_CONFIG',
        `illegal configuration line '${line.trim()}' in '${formatOrigin(origin)}'`,
      );
    if (tokens.length < 2) throw illegal();
    if (tokens[0] === 'include' || tokens[0] === '!include') {
      if (tokens.length !== 2) throw illegal();
      const target = resolve(opts.baseDir ?? dirname(opts.file), tokens[1]!);
      const contents = opts.readFile(target);
      if (contents === undefined) {
        if (tokens[0] === '!include') continue;
        throw new ConfigError(
          'MISSING_INCLUDE',
          `file '${target}' included from '${formatOrigin(origin)}' not found`,
        );
      }
      if (depth >= MAX_INCLUDE_DEPTH) {
        throw new ConfigError(
          'INCLUDE_DEPTH',
          `cannot include '${target}' from '${formatOrigin(origin)}': includes nested more than ${MAX_INCLUDE_DEPTH} deep`,
        );
      }
      parseInto(contents, { file: target, readFile: opts.readFile }, out, depth + 1);
      continue;
    }
    if (tokens[1] !== '=') throw illegal();
    out.push({ name: tokens[0]!, value: tokens.slice(2).join(' '), origin });
  }
}
