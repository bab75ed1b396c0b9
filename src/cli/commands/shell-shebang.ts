// nix-shell as a script interpreter (its "#!" mode), as Nix 2.8 does it: `tix shell SCRIPT ARGS…`
// where SCRIPT's first line starts with "#!" takes its arguments from the script's lines
// `#! nix-shell …` (or `#! tix shell …`), split as perl's shellwords; the script's own ARGS are
// kept for the interpreter `-i` names, which then runs the script in the shell's environment.
import { readFileSync } from 'node:fs';
import { shellEscape } from '../../build/structured-attrs.js';

export interface Shebang {
  /** The script, as given. */
  script: string;
  /** The arguments tix shell takes from the script's `#! nix-shell` lines. */
  args: string[];
  /** The arguments after the script's name, for the script itself. */
  scriptArgs: string[];
}

/**
 * Nix's shellwords: words split at whitespace outside double quotes; a double quote toggles
 * quoting and is dropped; a backslash takes the next character as it is.
 */
export function shellwords(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quoted = false;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (!quoted && /\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else if (c === '"') {
      quoted = !quoted;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 < s.length) cur += s[++i];
      inWord = true;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord && cur !== '') words.push(cur);
  return words;
}

/** The "#!" reading of `tix shell` arguments: undefined unless the first is a file starting with "#!". */
export function readShebang(argv: string[], cwd: string): Shebang | undefined {
  const script = argv[0];
  if (script === undefined || script.startsWith('-')) return undefined;
  let text: string;
  try {
    text = readFileSync(script.startsWith('/') ? script : `${cwd}/${script}`, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  if (!lines[0]!.startsWith('#!')) return undefined;
  const args: string[] = [];
  for (const line of lines.slice(1)) {
    const m = /^#!\s*(?:nix-shell|tix shell) (.*)$/.exec(line.replace(/\r$/, ''));
    if (m) args.push(...shellwords(m[1]!));
  }
  return { script, args, scriptArgs: argv.slice(1) };
}

/**
 * The command nix-shell runs for `-i INTERPRETER`: exec the interpreter on the script with its
 * arguments (perl is told its name is PERL so that it does not read the "#!" line itself; ruby
 * loads the script, for the same reason).
 */
export function interpreterCommand(interpreter: string, script: string, scriptArgs: string[]): string {
  const execArgs = /perl/.test(interpreter) ? '-a PERL' : '';
  const joined = scriptArgs.map((a) => `${shellEscape(a)} `).join('');
  if (/ruby/.test(interpreter))
    return `exec ${execArgs} ${interpreter} -e 'load(ARGV.shift)' -- ${shellEscape(script)} ${joined}`;
  return `exec ${execArgs} ${interpreter} ${shellEscape(script)} ${joined}`;
}
