// `tix build [FILE | -E EXPR | DRV…] [-A ATTR] [--arg N E] [--argstr N S] [-I P] [--no-out-link | -o LINK]`
// = `nix-build`: Nix files and expressions are instantiated into the store first (the evaluator
// with the store-backed EvalIO); `.drv` and store paths are built as given (all outputs,
// or those chosen with `DRV!out,dev`), prints the output paths and creates `result` links — one
// per output: `result` for out, `result-dev` for dev, `result-2…` for the second derivation —
// each registered as an indirect GC root. Exit 100 (or Nix's 101/102/104) when a build fails.
import { resolve } from 'node:path';
import type { BuildPathsResult } from '../../build/goals.js';
import type { Settings } from '../../config/settings.js';
import { instantiate, ioSpecFor } from '../../glue/instantiate.js';
import { LocalStore } from '../../store/local.js';
import { opensLocalStore } from '../../store/open.js';
import type { DerivedPath, Store } from '../../store/store.js';
import { flagSet, flagValue, type ParsedArgs, parseArgs } from '../args.js';
import { cliSettings } from '../cli-settings.js';
import { type Command, type CommandContext, UsageError } from '../command.js';
import { missingFor } from '../missing.js';
import { resolveCliStoreUri, withStore } from '../open-store.js';
import { BUILD_FLAGS, buildFlagSettings, parseDerivedPathArg, quiet, realisedOutputs } from '../realise.js';
import { buildersFlagSettings, prewarmRemoteOnly, realiseWithBuilders } from '../remote-builds.js';
import { addResultLink } from '../result-link.js';
import { storeDirsOf } from '../store-paths.js';
import { substitutionFromSettings } from '../substitute-hook.js';
import { BUILD_EVAL_FLAGS, requestFromArgs } from './eval-common.js';

/** nix-build's link name for output `output` of the `counter`-th distinct derivation (0-based). */
export function outLinkName(base: string, counter: number, output: string): string {
  return (
    base + (counter > 0 ? `-${counter + 1}` : '') + (output !== 'out' && output !== '' ? `-${output}` : '')
  );
}

/** `.drv` files, `DRV!out` selections and store paths are built as they are; anything else is Nix. */
function isDerivedPathArg(arg: string, storeDir: string): boolean {
  return /\.drv([!^][^/]*)?$/.test(arg) || arg.startsWith(`${storeDir}/`);
}

/** What to build: the positional paths, or the derivations the Nix expressions evaluate to. */
async function pathsToBuild(
  args: ParsedArgs,
  ctx: CommandContext,
  store: Store,
  settings: Settings,
): Promise<DerivedPath[] | undefined> {
  const dirs = storeDirsOf(store);
  const isNix =
    flagSet(args, '--expr') ||
    args.positional.some(
      (a) => !isDerivedPathArg(a, dirs.storeDir) && !isDerivedPathArg(a, dirs.realStoreDir ?? dirs.storeDir),
    );
  if (!isNix) {
    if (args.positional.length === 0) throw new UsageError("'tix build' needs at least one derivation");
    return args.positional.map((a) => parseDerivedPathArg(a, { cwd: ctx.cwd, ...dirs }));
  }
  // --repair also writes damaged sources and .drv files again, as nix-build's evaluation does.
  const req = { ...requestFromArgs(args, ctx, 'instantiate', settings), repair: flagSet(args, '--repair') };
  const res = await instantiate(
    req,
    ioSpecFor(store, resolveCliStoreUri(ctx, settings), settings, ctx.env),
    (d) => ctx.err.write(Buffer.from(d, 'latin1')),
  );
  return res.code === 0 ? res.paths : undefined;
}

export const build: Command = {
  name: ['build'],
  summary: 'evaluate and build Nix expressions or .drv paths, creating result links (like nix-build)',
  async run(argv, ctx) {
    const args = parseArgs(argv, {
      ...BUILD_FLAGS,
      ...BUILD_EVAL_FLAGS,
      '--builders': { arity: 1 },
      '--no-out-link': { arity: 0 },
      '--check': { arity: 0 },
      '--repair': { arity: 0 },
      '--dry-run': { arity: 0 },
      '--out-link': { arity: 1, aliases: ['-o'] },
    });
    if (flagSet(args, '--no-out-link') && flagSet(args, '--out-link')) {
      throw new UsageError("'--no-out-link' and '--out-link' conflict");
    }
    const settings = cliSettings(ctx, [...buildFlagSettings(args), ...buildersFlagSettings(args)]);
    const linkBase = flagSet(args, '--no-out-link')
      ? undefined
      : resolve(ctx.cwd, flagValue(args, '--out-link') ?? 'result');
    // Builds on a local store may be offloaded: with max-jobs 0 the SSH handshakes start now,
    // before the store is even opened (a store named otherwise is checked once open).
    const prewarmed = opensLocalStore(resolveCliStoreUri(ctx, settings), ctx.env);
    if (prewarmed) prewarmRemoteOnly(settings, ctx);
    return withStore(
      ctx,
      async (store) => {
        if (!prewarmed && store instanceof LocalStore) prewarmRemoteOnly(settings, ctx);
        const paths = await pathsToBuild(args, ctx, store, settings);
        if (paths === undefined) return 1;
        // As nix-build: what will be built and fetched, then (unless --dry-run) the builds, with
        // the same substituters (their narinfo lookups are not repeated).
        const log = (line: string) => ctx.err.write(`${line}\n`);
        const substitution = substitutionFromSettings(store, settings, { env: ctx.env, log });
        let res: BuildPathsResult;
        try {
          if (!flagSet(args, '--check'))
            for (const line of await missingFor(store, paths, substitution)) if (!quiet(ctx)) log(line);
          if (flagSet(args, '--dry-run')) return 0;
          res = await realiseWithBuilders(store, paths, settings, ctx, {
            check: flagSet(args, '--check'),
            repair: flagSet(args, '--repair'),
            substitution,
          });
        } finally {
          await substitution?.close();
        }
        const counters = new Map<string, number>();
        const links: [string, string][] = [];
        const printed: string[] = [];
        for (const { path, outputs } of realisedOutputs(paths, res)) {
          const key = path.kind === 'built' ? path.drvPath : path.path;
          if (!counters.has(key)) counters.set(key, counters.size);
          for (const [name, outPath] of outputs) {
            printed.push(outPath);
            if (linkBase !== undefined)
              links.push([outLinkName(linkBase, counters.get(key)!, name), outPath]);
          }
        }
        for (const [link, outPath] of links) await addResultLink(store, outPath, link);
        ctx.out.write(printed.map((p) => `${p}\n`).join(''));
        return 0;
      },
      settings,
    );
  },
};
