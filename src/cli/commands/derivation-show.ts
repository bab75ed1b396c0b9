// `tix derivation show [-r] PATH…` = Nix 2.8's `nix show-derivation`: the derivations as JSON
// keyed by `.drv` path. An output path stands for its deriver; `-r` adds every input derivation.

import type { Derivation } from '../../formats/derivation.js';
import { isDerivationPath } from '../../formats/derivation.js';
import { printDerivationsJson } from '../../formats/derivation-json.js';
import { StoreError } from '../../store/errors.js';
import { flagSet, parseArgs } from '../args.js';
import { type Command, UsageError } from '../command.js';
import { withStore } from '../open-store.js';
import { readStoreDerivation, requirePathInfo, storeDirsOf, storePathArg } from '../store-paths.js';

export const derivationShow: Command = {
  name: ['derivation', 'show'],
  summary: 'show derivations as JSON (like nix show-derivation)',
  async run(argv, ctx) {
    const args = parseArgs(argv, { '--recursive': { arity: 0, aliases: ['-r'] } });
    if (args.positional.length === 0) throw new UsageError("'tix derivation show' needs at least one path");
    return withStore(ctx, async (store) => {
      const todo: string[] = [];
      for (const a of args.positional) {
        const p = storePathArg(a, { cwd: ctx.cwd, ...storeDirsOf(store) });
        if (isDerivationPath(p)) todo.push(p);
        else {
          const deriver = (await requirePathInfo(store, p)).deriver;
          if (!deriver) throw new StoreError('BAD_INFO', `path '${p}' does not have a known deriver`);
          todo.push(deriver);
        }
      }
      const drvs = new Map<string, Derivation>();
      while (todo.length > 0) {
        const p = todo.pop()!;
        if (drvs.has(p)) continue;
        const drv = await readStoreDerivation(store, p);
        drvs.set(p, drv);
        if (flagSet(args, '--recursive')) todo.push(...drv.inputDrvs.keys());
      }
      ctx.out.write(printDerivationsJson(drvs));
      return 0;
    });
  },
};
