// `tix store delete PATH…` = `nix-store --delete`: deletes the given paths if nothing keeps them
// alive. Like Nix, the summary line is printed even when the deletion is refused.
import { flagSet, parseArgs } from '../args.js';
import { type Command, UsageError } from '../command.js';
import { printFreed } from '../gc-format.js';
import { withStore } from '../open-store.js';
import { quiet } from '../realise.js';
import { requireCapability } from '../store-capabilities.js';
import { storeDirsOf, storePathArg } from '../store-paths.js';

export const storeDelete: Command = {
  name: ['store', 'delete'],
  summary: 'delete store paths that are not alive (like nix-store --delete)',
  async run(argv, ctx) {
    const args = parseArgs(argv, { '--ignore-liveness': { arity: 0 } });
    if (args.positional.length === 0) throw new UsageError("'tix store delete' needs at least one path");
    return withStore(ctx, async (store) => {
      const paths = args.positional.map((a) => storePathArg(a, { cwd: ctx.cwd, ...storeDirsOf(store) }));
      const gc = requireCapability(store, 'collectGarbage', 'deleting paths');
      let res = { paths: [] as string[], bytesFreed: 0 };
      try {
        res = await gc.collectGarbage({
          action: 'deleteSpecific',
          paths,
          ignoreLiveness: flagSet(args, '--ignore-liveness'),
          // nix-store --delete's progress lines (left out with --quiet, as there).
          log: (line) => {
            if (!quiet(ctx)) ctx.err.write(`${line}\n`);
          },
        });
      } finally {
        ctx.out.write(printFreed(res.paths.length, res.bytesFreed));
      }
      return 0;
    });
  },
};
