// `tix store optimise` = `nix-store --optimise`: hard-links identical files across the store
// (src/store/optimise.ts) and says how much that freed, as Nix 2.8 words it. Through a daemon the
// daemon does the work and sends that line itself (as nix-daemon does).
import { optimiseSummary } from '../../store/optimise.js';
import { parseArgs } from '../args.js';
import { type Command, UsageError } from '../command.js';
import { withStore } from '../open-store.js';
import { requireCapability } from '../store-capabilities.js';

export const storeOptimise: Command = {
  name: ['store', 'optimise'],
  summary: 'hard-link identical files in the store (like nix-store --optimise)',
  async run(argv, ctx) {
    const args = parseArgs(argv, {});
    if (args.positional.length > 0) throw new UsageError("'tix store optimise' takes no arguments");
    return withStore(ctx, async (store) => {
      const s = requireCapability(store, 'optimiseStore', 'optimisation');
      const stats = await s.optimiseStore();
      if (stats) ctx.err.write(`${optimiseSummary(stats)}\n`);
      return 0;
    });
  },
};
