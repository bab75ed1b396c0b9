// What the three executables share: the options every command accepts, the context of the real
// process, and (for the protocol servers, whose stdin may stay open) exiting once stderr is out.
// Kept apart from tix.ts so that tix-store and tix-daemon do not load every tix command.
import { SETTINGS } from '../config/registry.js';
import type { CommandContext, GlobalOptions } from './command.js';
import { sourceMappedStack } from './stack-map.js';

/**
 * Settings that the building commands (BUILDING_COMMANDS) take as their own flags
 * (`tix build --max-jobs 4`): left to them there, settings flags everywhere else.
 */
const COMMAND_FLAGS = new Set([
  'store',
  'max-jobs',
  'cores',
  'builders',
  'keep-going',
  'keep-failed',
  'fallback',
  'max-silent-time',
  'timeout',
]);

/** Commands' flags whose values follow them, with how many: those values are passed on as they are. */
const OWN_FLAG_VALUES = new Map<string, number>([
  ['--arg', 2],
  ['--argstr', 2],
  ['--attr', 1],
  ['-A', 1],
  ['--include', 1],
  ['-I', 1],
  ['--out-link', 1],
  ['-o', 1],
]);

/** The commands (first word; `store realise` by its second) that define COMMAND_FLAGS. */
const BUILDING_COMMANDS = new Set(['build', 'builders', 'repl', 'store realise']);

/** The command's words: the first two arguments that are neither flags nor option values. */
function commandOf(argv: string[]): string {
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--store') i++;
    else if (a === '--option') i += 2;
    else if (!a.startsWith('-')) words.push(a);
    else if (words.length > 0) break;
  }
  return BUILDING_COMMANDS.has(words[0] ?? '') ? words[0]! : words.join(' ');
}

const LIST_TYPES = new Set(['strings', 'string-set', 'features']);

/**
 * Nix takes every setting as a flag: `--NAME VALUE`, for a Boolean `--NAME` and `--no-NAME`, and
 * for a list `--extra-NAME VALUE`. Returns the setting (as `--option` would name it), how many
 * values follow, and the value a Boolean flag gives.
 */
function settingFlag(
  a: string,
  own: ReadonlySet<string>,
): { name: string; arity: 0 | 1; value?: string } | undefined {
  if (!a.startsWith('--')) return undefined;
  const n = a.slice(2);
  const type = (name: string) => (own.has(name) ? undefined : SETTING_TYPES[name]?.type);
  const t = type(n);
  if (t !== undefined)
    return t === 'bool' || t === 'sandbox' ? { name: n, arity: 0, value: 'true' } : { name: n, arity: 1 };
  if (n.startsWith('no-')) {
    const b = type(n.slice(3));
    if (b === 'bool' || b === 'sandbox') return { name: n.slice(3), arity: 0, value: 'false' };
  }
  // `sandbox` is true, false or relaxed: `--sandbox`, `--no-sandbox`, `--relaxed-sandbox`.
  if (n === 'relaxed-sandbox') return { name: 'sandbox', arity: 0, value: 'relaxed' };
  if (n.startsWith('extra-')) {
    const l = SETTING_TYPES[n.slice(6)]?.type;
    if (l !== undefined && LIST_TYPES.has(l)) return { name: n, arity: 1 };
  }
  return undefined;
}

const SETTING_TYPES = SETTINGS as Record<string, { type: string } | undefined>;

/** Removes the options every command accepts (wherever they appear) and returns them. */
export function extractGlobalOptions(argv: string[]): { rest: string[]; global: GlobalOptions } {
  const global: GlobalOptions = { options: new Map(), showTrace: false, debug: false, json: false };
  const rest: string[] = [];
  const own = BUILDING_COMMANDS.has(commandOf(argv)) ? COMMAND_FLAGS : new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    // Values of the commands' own flags are never options (`--argstr tag --quiet`).
    const values = OWN_FLAG_VALUES.get(a);
    if (values !== undefined) {
      rest.push(...argv.slice(i, i + 1 + values));
      i += values;
      continue;
    }
    const f = settingFlag(a, own);
    if (a === '--option' && i + 2 < argv.length) {
      global.options.set(argv[i + 1]!, argv[i + 2]!);
      i += 2;
    } else if (a === '--store' && i + 1 < argv.length) {
      global.store = argv[++i]!;
    } else if (a === '--show-trace') {
      global.showTrace = true;
    } else if (a === '--debug') {
      global.debug = true;
      global.showTrace = true;
    } else if (a === '--verbose' || /^-v+$/.test(a)) {
      global.verbosity = (global.verbosity ?? 0) + (a === '--verbose' ? 1 : a.length - 1);
    } else if (a === '--quiet') {
      global.verbosity = (global.verbosity ?? 0) - 1;
    } else if (a === '-Q' || a === '--no-build-output') {
      global.buildOutput = false;
    } else if (f !== undefined) {
      if (f.arity === 1 && i + 1 >= argv.length) {
        rest.push(a);
        continue;
      }
      const value = f.arity === 0 ? f.value! : argv[++i]!;
      const prev = global.options.get(f.name);
      // `--extra-NAME` adds to what an earlier `--extra-NAME` gave, as it adds to the configuration.
      global.options.set(
        f.name,
        prev !== undefined && f.name.startsWith('extra-') ? `${prev} ${value}` : value,
      );
    } else {
      rest.push(a);
    }
  }
  return { rest, global };
}

/**
 * A reader that went away (`tix … | head -1`) ends this process quietly, with the status a shell
 * shows for Nix killed by SIGPIPE (128 + 13), instead of an unhandled 'error' event and its stack.
 */
function endOnBrokenPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(141);
    throw e;
  });
}

/** The context of this process: its standard streams, environment and working directory. */
export function processContext(): Omit<CommandContext, 'global'> {
  endOnBrokenPipe(process.stdout);
  return {
    out: process.stdout,
    err: process.stderr,
    stdin: () => process.stdin,
    env: process.env,
    cwd: process.cwd(),
  };
}

/** Exits with the code once stderr is flushed: a protocol server's stdin may still be open. */
export function exitWhenDone(run: Promise<number>): void {
  run.then(
    (code) => process.stderr.write('', () => process.exit(code)),
    (e) =>
      process.stderr.write(`error (internal): ${sourceMappedStack(String((e as Error).stack ?? e))}\n`, () =>
        process.exit(1),
      ),
  );
}
