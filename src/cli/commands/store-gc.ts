// `tix store gc [--max-freed N] [--print-live | --print-dead | --print-roots]` = `nix-store --gc`.
import { compareUtf8 } from '../../formats/byte-order.js';
import { flagSet, flagValue, parseArgs } from '../args.js';
import { type Command, UsageError } from '../command.js';
import { parseByteCount, printFreed } from '../gc-format.js';
import { withStore } from '../open-store.js';
import { quiet } from '../realise.js';
import { requireCapability } from '../store-capabilities.js';

export const storeGc: Command = {
  name: ['store', 'gc'],
  summary: 'delete unreachable store paths (like nix-store --gc)',
  async run(argv, ctx) {
    const args = parseArgs(argv, {
      '--max-freed': { arity: 1 },
      '--print-live': { arity: 0 },
      '--print-dead': { arity: 0 },
      '--print-roots': { arity: 0 },
    });
    if (args.positional.length > 0)
      throw new UsageError("'tix store gc' takes no paths; see 'tix store delete'");
    const modes = ['--print-live', '--print-dead', '--print-roots'].filter((f) => flagSet(args, f));
    if (modes.length > 1) throw new UsageError(`flags ${modes.map((m) => `'${m}'`).join(' and ')} conflict`);
    const maxFreedText = flagValue(args, '--max-freed');
    const maxFreed = maxFreedText === undefined ? undefined : parseByteCount('--max-freed', maxFreedText);
    return withStore(ctx, async (store) => {
      if (modes[0] === '--print-roots') {
        const roots = await requireCapability(store, 'findRoots', 'listing roots').findRoots();
        const lines = [...roots]
          .filter(([link]) => !link.startsWith('{'))
          .map(([link, path]) => `${link} -> ${path}\n`)
          .sort(compareUtf8);
        ctx.out.write(lines.join(''));
        return 0;
      }
      const gc = requireCapability(store, 'collectGarbage', 'garbage collection');
      const action =
        modes[0] === '--print-live'
          ? 'returnLive'
          : modes[0] === '--print-dead'
            ? 'returnDead'
            : 'deleteDead';
      // nix-store --gc's progress lines (left out with --quiet, as there).
      const log = (line: string) => {
        if (!quiet(ctx)) ctx.err.write(`${line}\n`);
      };
      const res = await gc.collectGarbage({ action, maxFreed, log });
      if (action === 'deleteDead') ctx.out.write(printFreed(res.paths.length, res.bytesFreed));
      else {
        ctx.out.write(
          [...res.paths]
            .sort(compareUtf8)
            .map((p) => `${p}\n`)
            .join(''),
        );
      }
      return 0;
    });
  },
};
