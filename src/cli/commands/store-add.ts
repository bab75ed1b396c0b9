// `tix store add PATH…` = `nix-store --add`; `tix store add --fixed ALGO [--recursive] PATH…` =
// `nix-store --add-fixed`. Prints one store path per argument.
import { resolve } from 'node:path';
import { parseHashAlgo } from '../../formats/hash.js';
import { addPathToStore } from '../add-path.js';
import { flagSet, flagValue, parseArgs } from '../args.js';
import { type Command, UsageError } from '../command.js';
import { withStore } from '../open-store.js';

export const storeAdd: Command = {
  name: ['store', 'add'],
  summary: 'add files to the store (like nix-store --add / --add-fixed)',
  async run(argv, ctx) {
    const args = parseArgs(argv, { '--fixed': { arity: 1 }, '--recursive': { arity: 0, aliases: ['-r'] } });
    if (args.positional.length === 0) throw new UsageError("'tix store add' needs at least one path");
    const fixed = flagValue(args, '--fixed');
    if (fixed === undefined && flagSet(args, '--recursive')) {
      throw new UsageError("'--recursive' only applies with '--fixed ALGO'");
    }
    const method = fixed === undefined || flagSet(args, '--recursive') ? 'recursive' : 'flat';
    const hashAlgo = fixed === undefined ? 'sha256' : parseHashAlgo(fixed);
    return withStore(ctx, async (store) => {
      for (const p of args.positional) {
        const info = await addPathToStore(store, resolve(ctx.cwd, p), { method, hashAlgo });
        ctx.out.write(`${info.path}\n`);
      }
      return 0;
    });
  },
};
