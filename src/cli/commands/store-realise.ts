// `tix store realise PATH…` = `nix-store --realise`: builds the derivations given (all outputs, or
// `DRV!out`), substitutes or checks the other paths, and prints the resulting store paths, or with
// `--add-root ROOT` makes GC root links to them and prints those.

import { resolve } from 'node:path';
import type { BuildPathsResult } from '../../build/goals.js';
import { compareUtf8 } from '../../formats/byte-order.js';
import { flagSet, flagValue, parseArgs } from '../args.js';
import { cliSettings } from '../cli-settings.js';
import { type Command, UsageError } from '../command.js';
import { missingFor } from '../missing.js';
import { withStore } from '../open-store.js';
import {
  BUILD_FLAGS,
  buildFlagSettings,
  parseDerivedPathArg,
  quiet,
  realisedOutputs,
  realisePaths,
} from '../realise.js';
import { addResultLink, takesRootLinks } from '../result-link.js';
import { storeDirsOf } from '../store-paths.js';
import { substitutionFromSettings } from '../substitute-hook.js';

export const storeRealise: Command = {
  name: ['store', 'realise'],
  summary: 'build or check store paths and print them (like nix-store --realise)',
  async run(argv, ctx) {
    const args = parseArgs(argv, {
      ...BUILD_FLAGS,
      '--repair': { arity: 0 },
      '--add-root': { arity: 1 },
      // Accepted and ignored, as by Nix 2.8 (roots outside the store are always indirect).
      '--indirect': { arity: 0 },
    });
    if (args.positional.length === 0) throw new UsageError("'tix store realise' needs at least one path");
    const settings = cliSettings(ctx, buildFlagSettings(args));
    const gcRoot = flagValue(args, '--add-root');
    return withStore(
      ctx,
      async (store) => {
        const paths = args.positional.map((a) =>
          parseDerivedPathArg(a, { cwd: ctx.cwd, ...storeDirsOf(store) }),
        );
        // As nix-store --realise: what will be built and fetched first, with the same substituters.
        const log = (line: string) => ctx.err.write(`${line}\n`);
        const substitution = substitutionFromSettings(store, settings, { env: ctx.env, log });
        let res: BuildPathsResult;
        try {
          if (!quiet(ctx)) for (const line of await missingFor(store, paths, substitution)) log(line);
          res = await realisePaths(store, paths, settings, ctx, {
            repair: flagSet(args, '--repair'),
            substitution,
          });
        } finally {
          await substitution?.close();
        }
        const rooted = takesRootLinks(store);
        if (rooted && gcRoot === undefined) {
          ctx.err.write(
            "warning: you did not specify '--add-root'; the result might be removed by the garbage collector\n",
          );
        }
        const rootBase = rooted && gcRoot !== undefined ? resolve(ctx.cwd, gcRoot) : undefined;
        // As nix-store --realise: each argument's paths (or root links) in order, sorted within one;
        // roots are named ROOT, ROOT-2, … per argument, with -OUTPUT for outputs other than out.
        let rootNr = 0;
        for (const { path, outputs } of realisedOutputs(paths, res)) {
          rootNr++;
          const printed = new Set<string>();
          for (const [name, p] of outputs) {
            if (rootBase === undefined) {
              printed.add(p);
              continue;
            }
            let root = rootBase;
            if (rootNr > 1) root += `-${rootNr}`;
            if (path.kind === 'built' && name !== 'out') root += `-${name}`;
            await addResultLink(store, p, root);
            printed.add(root);
          }
          ctx.out.write(
            [...printed]
              .sort(compareUtf8)
              .map((p) => `${p}\n`)
              .join(''),
          );
        }
        return 0;
      },
      settings,
    );
  },
};
