// `tix repl [FILES…] [-I PATH]` = Nix 2.8's `nix repl`: evaluates what is typed (src/eval/repl.ts)
// with the store as `tix build` uses it (derivations are written, `:b` builds, with the configured
// builders). On a terminal it offers line editing, a prompt, a banner and colours; with input from
// a pipe it reads lines silently and prints only results and errors. An expression that is cut
// short continues on the next line.
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { EvalState } from '../../eval/state.js';
import { storeIOSpec } from '../../glue/instantiate.js';
import type { DerivedPath } from '../../store/store.js';
import { parseArgs } from '../args.js';
import { cliSettings } from '../cli-settings.js';
import { type Command, type CommandContext, UsageError } from '../command.js';
import { runInForeground } from '../foreground.js';
import { withStore } from '../open-store.js';
import { buildersFlagSettings, realiseWithBuilders } from '../remote-builds.js';
import { EVAL_FLAGS, requestFromArgs } from './eval-common.js';
import { findBuildLog } from './log.js';

const PROMPT = 'tix-repl> ';
const CONTINUED = ' '.repeat(PROMPT.length);

/**
 * The lines typed (with line editing and prompts on a terminal) or piped in, one complete input at
 * a time: a line that leaves the expression cut short is joined with the next.
 */
async function* inputs(
  ctx: CommandContext,
  tty: boolean,
  incomplete: (s: string) => boolean,
): AsyncGenerator<string> {
  const rl = tty
    ? createInterface({ input: process.stdin, output: process.stdout, terminal: true, historySize: 1000 })
    : createInterface({ input: Readable.from(ctx.stdin()), crlfDelay: Number.POSITIVE_INFINITY });
  const prompt = (p: string) => {
    if (!tty) return;
    rl.setPrompt(p);
    rl.prompt();
  };
  let pending = '';
  prompt(PROMPT);
  try {
    for await (const line of rl) {
      pending = pending === '' ? line : `${pending}\n${line}`;
      if (incomplete(pending)) {
        prompt(CONTINUED);
        continue;
      }
      yield pending;
      pending = '';
      prompt(PROMPT);
    }
  } finally {
    rl.close();
  }
  if (pending !== '') yield pending;
}

/** Runs `fn` with the terminal handed over: line editing off and standard input not read. */
async function handTerminal<T>(tty: boolean, fn: () => Promise<T>): Promise<T> {
  const stdin = process.stdin as NodeJS.ReadStream;
  const raw = tty && stdin.isRaw;
  if (tty) {
    stdin.setRawMode(false);
    stdin.pause();
  }
  try {
    return await fn();
  } finally {
    if (tty) {
      stdin.setRawMode(raw);
      stdin.resume();
    }
  }
}

/** `:s`/`:u`: `tix shell DRV` in this process. A shell that exits non-zero is an error, as in Nix 2.8. */
async function replShell(drvPath: string, ctx: CommandContext, tty: boolean): Promise<void> {
  const { shell } = await import('./shell.js');
  const status = await handTerminal(tty, () => shell.run([drvPath], ctx));
  if (status !== 0) throw new UsageError(`program 'tix shell' failed with exit code ${status}`);
}

/**
 * `:e`: $EDITOR (default `cat`) on the file, with `+LINE` for the editors that take it (emacs,
 * nano, vim, kak), as Nix 2.8's editorFor.
 */
async function replEdit(file: string, line: number, ctx: CommandContext, tty: boolean): Promise<void> {
  const editor = ctx.env.EDITOR ?? 'cat';
  const [program, ...args] = editor.split(/[ \t\n\r]+/).filter((w) => w !== '');
  if (line > 0 && /emacs|nano|vim|kak/.test(editor)) args.push(`+${line}`);
  args.push(file);
  const status = await handTerminal(tty, () =>
    runInForeground(program ?? 'cat', args, {
      env: ctx.env,
      cwd: ctx.cwd,
      spawnError: (e) => new UsageError(`executing '${program}': ${e.message}`),
    }),
  );
  if (status !== 0) throw new UsageError(`program '${program}' failed with exit code ${status}`);
}

export const replCommand: Command = {
  name: ['repl'],
  summary: 'evaluate Nix expressions interactively (like nix repl)',
  async run(argv, ctx) {
    const args = parseArgs(argv, { '--include': EVAL_FLAGS['--include']!, '--builders': { arity: 1 } });
    const settings = cliSettings(ctx, buildersFlagSettings(args));
    const files = args.positional;
    // requestFromArgs gives the search path (-I, NIX_PATH, <tix>) and environment of `tix eval`.
    const req = requestFromArgs({ ...args, positional: [] }, { ...ctx }, 'instantiate', settings);
    const tty = process.stdin.isTTY === true && (ctx.out as { isTTY?: boolean }).isTTY === true;
    return withStore(
      ctx,
      async (store) => {
        const [{ createEvalIO }, { evalStateFor }, { Repl }, { toBytes }] = await Promise.all([
          import('../../eval/run.js'),
          import('../../eval/session.js'),
          import('../../eval/repl.js'),
          import('../../eval/source.js'),
        ]);
        const io = await createEvalIO(storeIOSpec(store.uri));
        const newState = (): EvalState =>
          evalStateFor(req, io, (d) => ctx.err.write(Buffer.from(d, 'latin1')));
        const repl = new Repl(
          newState,
          toBytes(req.cwd),
          {
            out: (s) => ctx.out.write(Buffer.from(s, 'latin1')),
            err: (s) => ctx.err.write(Buffer.from(s, 'latin1')),
            color: tty,
            build: async (drvPath) => {
              const wanted: DerivedPath = { kind: 'built', drvPath, outputs: ['*'] };
              // A failed build throws (BuildError), and the repl reports it.
              await realiseWithBuilders(store, [wanted], settings, ctx);
              return store.queryDerivationOutputMap(drvPath);
            },
            log: (drvPath) => {
              const text = findBuildLog(store, drvPath);
              return text === undefined ? undefined : Buffer.from(text).toString('utf8');
            },
            shell: (drvPath) => replShell(drvPath, ctx, tty),
            edit: (file, line) => replEdit(file, line, ctx, tty),
          },
          { showTrace: ctx.global.showTrace },
        );
        if (tty) ctx.out.write('Welcome to tix (the Nix 2.8 language). Type :? for help.\n\n');
        for (const f of files) await repl.run(`:l ${f}`);
        for await (const input of inputs(ctx, tty, (s) => repl.isIncomplete(s))) {
          if (!(await repl.run(input))) break;
          // On a terminal, as Nix does, a blank line after each input's output.
          if (tty) ctx.out.write('\n');
        }
        return 0;
      },
      settings,
    );
  },
};
