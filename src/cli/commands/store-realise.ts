// `tix store realise PATH…` = `nix-store --realise`: builds the derivations given (all outputs, or
// `DRV!out`), checks that other paths are valid, and prints the resulting store paths.

import { compareUtf8 } from '../../formats/byte-order.js';
import { flagSet, parseArgs } from '../args.js';
import { cliSettings } from '../cli-settings.js';
import { type Command, UsageError } from '../command.js';
import { withStore } from '../open-store.js';
import {
  BUILD_FLAGS,
  buildFlagSettings,
  parseDerivedPathArg,
  realisedOutputs,
  realisePaths,
} from '../realise.js';
import { storeDirsOf } from '../store-paths.js';

export const storeRealise: Command = {
  name: ['store', 'realise'],
  summary: 'build or check store paths and print them (like nix-store --realise)',
  async run(argv, ctx) {
    const args = parseArgs(argv, { ...BUILD_FLAGS, '--repair': { arity: 0 } });
    if (args.positional.length === 0) throw new UsageError("'tix store realise' needs at least one path");
    const settings = cliSettings(ctx, buildFlagSettings(args));
    return withStore(
      ctx,
      async (store) => {
        const paths = args.positional.map((a) =>
          parseDerivedPathArg(a, { cwd: ctx.cwd, ...storeDirsOf(store) }),
        );
        const res = await realisePaths(store, paths, settings, ctx, { repair: flagSet(args, '--repair') });
        const out = new Set<string>();
        for (const { outputs } of realisedOutputs(paths, res)) for (const [, p] of outputs) out.add(p);
        ctx.out.write(
          [...out]
            .sort(compareUtf8)
            .map((p) => `${p}\n`)
            .join(''),
        );
        return 0;
      },
      settings,
    );
  },
};
