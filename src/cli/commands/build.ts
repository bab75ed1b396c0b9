// `tix build DRV… [--no-out-link | -o LINK]` = `nix-build` on `.drv` paths: builds (all outputs,
// or those chosen with `DRV!out,dev`), prints the output paths and creates `result` links — one
// per output: `result` for out, `result-dev` for dev, `result-2…` for the second derivation —
// each registered as an indirect GC root. Exit 100 (or Nix's 101/102/104) when a build fails.
import { resolve } from 'node:path';
import { flagSet, flagValue, parseArgs } from '../args.js';
import { CliError } from '../cli-error.js';
import { cliSettings } from '../cli-settings.js';
import { type Command, UsageError } from '../command.js';
import { withStore } from '../open-store.js';
import {
  BUILD_FLAGS,
  buildFlagSettings,
  parseDerivedPathArg,
  realisedOutputs,
} from '../realise.js';
import { buildersFlagSettings, realiseWithBuilders } from '../remote-builds.js';

/** nix-build's link name for output `output` of the `counter`-th distinct derivation (0-based). */
export function outLinkName(base: string, counter: number, output: string): string {
  return (
    base + (counter > 0 ? `-${counter + 1}` : '') + (output !== 'out' && output !== '' ? `-${output}` : '')
  );
}

export const build: Command = {
  name: ['build'],
  summary: 'build derivations and create result links (like nix-build on .drv paths)',
  async run(argv, ctx) {
    const args = parseArgs(argv, {
      ...BUILD_FLAGS,
      '--builders': { arity: 1 },
      '--no-out-link': { arity: 0 },
      '--out-link': { arity: 1, aliases: ['-o'] },
    });
    if (args.positional.length === 0) throw new UsageError("'tix build' needs at least one derivation");
    if (flagSet(args, '--no-out-link') && flagSet(args, '--out-link')) {
      throw new UsageError("'--no-out-link' and '--out-link' conflict");
    }
    const settings = cliSettings(ctx, [...buildFlagSettings(args), ...buildersFlagSettings(args)]);
    const linkBase = flagSet(args, '--no-out-link')
      ? undefined
      : resolve(ctx.cwd, flagValue(args, '--out-link') ?? 'result');
    return withStore(
      ctx,
      async (store) => {
        const paths = args.positional.map((a) =>
          parseDerivedPathArg(a, { cwd: ctx.cwd, storeDir: store.storeDir }),
        );
        const res = await realiseWithBuilders(store, paths, settings, ctx);
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
        if (links.length > 0) {
          const roots = store as typeof store & { addPermRoot?: (p: string, l: string) => Promise<string> };
          if (typeof roots.addPermRoot !== 'function') {
            throw new CliError(
              'UNSUPPORTED',
              `store '${store.uri}' cannot register GC roots; use --no-out-link`,
            );
          }
          for (const [link, outPath] of links) await roots.addPermRoot(outPath, link);
        }
        ctx.out.write(printed.map((p) => `${p}\n`).join(''));
        return 0;
      },
      settings,
    );
  },
};
