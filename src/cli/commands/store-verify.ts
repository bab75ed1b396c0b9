// `tix store verify [--check-contents] [--repair]` = `nix-store --verify`: checks that every valid
// path exists (and, with --check-contents, that its NAR hash still matches); with --repair a
// damaged path is restored from a substituter that has a copy with the recorded NAR hash, or else
// by building its derivation again (repair mode), as Nix 2.8 repairs. Exit 1 on errors left.
import { flagSet, parseArgs } from '../args.js';
import { type Command, UsageError } from '../command.js';
import { withStore } from '../open-store.js';
import { realisePaths } from '../realise.js';
import { requireCapability } from '../store-capabilities.js';
import { substitutionFromSettings } from '../substitute-hook.js';

export const storeVerify: Command = {
  name: ['store', 'verify'],
  summary: 'check the consistency of the store (like nix-store --verify)',
  async run(argv, ctx) {
    const args = parseArgs(argv, { '--check-contents': { arity: 0 }, '--repair': { arity: 0 } });
    if (args.positional.length > 0) throw new UsageError("'tix store verify' takes no arguments");
    return withStore(ctx, async (store, settings) => {
      const v = requireCapability(store, 'verifyStore', 'verification');
      const repair = flagSet(args, '--repair');
      const log = (line: string) => ctx.err.write(`${line}\n`);
      const substitution = repair
        ? substitutionFromSettings(store, settings, { env: ctx.env, log })
        : undefined;
      try {
        const { errors } = await v.verifyStore({
          checkContents: flagSet(args, '--check-contents'),
          repair,
          ...(substitution ? { repairSource: (info) => substitution.repairSource(info) } : {}),
          rebuild: async (info) => {
            const drvPath = info.deriver;
            if (drvPath === undefined || !(await store.isValidPath(drvPath))) return false;
            try {
              await realisePaths(store, [{ kind: 'built', drvPath, outputs: ['*'] }], settings, ctx, {
                repair: true,
                ...(substitution ? { substitution } : {}),
              });
              return true;
            } catch (e) {
              ctx.err.write(`${(e as Error).message}\n`);
              return false;
            }
          },
        });
        for (const e of errors) ctx.err.write(`${e}\n`);
        if (errors.length === 0) return 0;
        ctx.err.write('warning: not all store errors were fixed\n');
        return 1;
      } finally {
        await substitution?.close();
      }
    });
  },
};
