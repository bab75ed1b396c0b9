// A small argument parser shaped like Nix's: flags with a fixed number of values, repeated flags
// collected in order, `--` ending flags, positional arguments kept in order.
import { UsageError } from './command.js';

export interface FlagSpec {
  /** Number of values the flag takes (0 for a boolean). */
  arity: number;
  /** Other spellings, e.g. ['-o'] for '--out-link'. */
  aliases?: string[];
}

export interface ParsedArgs {
  /** Flag name (as spelled in the spec) → list of occurrences, each a list of values. */
  flags: Map<string, string[][]>;
  positional: string[];
}

/** `--help` among a command's arguments (before `--`): the command's flags, for its usage text. */
export class HelpRequest extends Error {
  constructor(readonly spec: Record<string, FlagSpec>) {
    super('help requested');
    this.name = 'HelpRequest';
  }
}

/** A command's usage text, from its words, summary and flags (global options included). */
export function commandUsage(name: string[], summary: string, spec: Record<string, FlagSpec>): string {
  const lines = [`usage: tix ${name.join(' ')} [FLAGS] [ARGS...]`, '', `${summary}.`, ''];
  const flags = Object.entries(spec).sort(([a], [b]) => a.localeCompare(b));
  if (flags.length > 0) {
    lines.push('flags:');
    for (const [flag, s] of flags) {
      const values = s.arity === 2 ? ' NAME VALUE' : s.arity === 1 ? ' VALUE' : '';
      const also = s.aliases?.length ? ` (also ${s.aliases.join(', ')})` : '';
      lines.push(`  ${flag}${values}${also}`);
    }
    lines.push('');
  }
  lines.push(
    'global options: --store URI, --option NAME VALUE (or --NAME VALUE) for any setting,',
    '  --show-trace, --debug, -v/--verbose, --quiet, -Q/--no-build-output',
  );
  return `${lines.join('\n')}\n`;
}

/**
 * Nix's compound short flags: `-rsSh` is `-r -s -S -h`; from the first character that is not a
 * letter on, the rest is the last flag's value (`-j3` is `-j 3`).
 */
function expandCompound(a: string): string[] {
  const out = [a.slice(0, 2)];
  for (let j = 2; j < a.length; j++) {
    if (/[a-zA-Z]/.test(a[j]!)) out.push(`-${a[j]}`);
    else {
      out.push(a.slice(j));
      break;
    }
  }
  return out;
}

export function parseArgs(argv: string[], spec: Record<string, FlagSpec>): ParsedArgs {
  argv = [...argv];
  const byName = new Map<string, [string, FlagSpec]>();
  for (const [name, s] of Object.entries(spec)) {
    byName.set(name, [name, s]);
    for (const a of s.aliases ?? []) byName.set(a, [name, s]);
  }
  const flags = new Map<string, string[][]>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('-') && a !== '-') {
      const hit = byName.get(a);
      // A one-letter flag may carry its value attached, as Nix accepts `-j4` for `-j 4`.
      if (!hit && /^-[a-zA-Z]./.test(a)) {
        const short = byName.get(a.slice(0, 2));
        if (short && short[1].arity === 1) {
          const list = flags.get(short[0]) ?? [];
          list.push([a.slice(2)]);
          flags.set(short[0], list);
          continue;
        }
      }
      if (!hit && /^-[a-zA-Z]./.test(a)) {
        argv.splice(i, 1, ...expandCompound(a));
        i--;
        continue;
      }
      if (!hit && a === '--help') throw new HelpRequest(spec);
      if (!hit) throw new UsageError(`unrecognised flag '${a}'`);
      const [name, s] = hit;
      if (i + s.arity >= argv.length + 0 && argv.length - i - 1 < s.arity) {
        throw new UsageError(`flag '${a}' requires ${s.arity} argument${s.arity === 1 ? '' : 's'}`);
      }
      const values = argv.slice(i + 1, i + 1 + s.arity);
      i += s.arity;
      const list = flags.get(name) ?? [];
      list.push(values);
      flags.set(name, list);
    } else {
      positional.push(a);
    }
  }
  return { flags, positional };
}

export function flagSet(p: ParsedArgs, name: string): boolean {
  return p.flags.has(name);
}

/** The value of the last occurrence of a one-value flag. */
export function flagValue(p: ParsedArgs, name: string): string | undefined {
  const l = p.flags.get(name);
  return l ? l[l.length - 1]![0] : undefined;
}

/** All occurrences of a flag, each a list of its values. */
export function flagValues(p: ParsedArgs, name: string): string[][] {
  return p.flags.get(name) ?? [];
}
