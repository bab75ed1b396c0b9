// `tix store verify [--check-contents] [--repair]` = `nix-store --verify`: checks that every valid
// path exists (and, with --check-contents, that its NAR hash still matches). Exit 1 on errors.
import { flagSet, parseArgs } from '../args.js';
import { type Command, UsageError } from '../command.js';
import { withStore } from '../open-store.js';
import { requireCapability } from '../store-capabilities.js';

export const storeVerify: Command = {
  name: ['store', 'verify'],
  summary: 'check the consistency of the store (like nix-store --verify)',
  async run(argv, ctx) {
    const args = parseArgs(argv, { '--check-contents': { arity: 0 }, '--repair': { arity: 0 } });
    if (args.positional.length > 0) throw new UsageError("'tix store verify' takes no arguments");
    return withStore(ctx, async (store) => {
      const v = requireCapability(store, 'verifyStore', 'verification');
      const { errors } = await v.verifyStore({
        checkContents: flagSet(args, '--check-contents'),
        repair: flagSet(args, '--repair'),
      });
      for (const e of errors) ctx.err.write(`${e}\n`);
      if (errors.length === 0) return 0;
      ctx.err.write('warning: not all store errors were fixed\n');
      return 1;
    });
  },
};
