// `tix store restore DIR` = `nix-store --restore`: reads a NAR from stdin and unpacks it at DIR.
// A malformed NAR fails with the byte offset of the problem; what was unpacked so far stays, as
// with Nix.
import { resolve } from 'node:path';
import { isFormatError } from '../../formats/errors.js';
import { parseNar } from '../../formats/nar.js';
import { parseArgs } from '../args.js';
import { CliError } from '../cli-error.js';
import { type Command, UsageError } from '../command.js';
import { restoreSink } from '../nar-restore.js';

export const storeRestore: Command = {
  name: ['store', 'restore'],
  summary: 'unpack a NAR from stdin into a directory (like nix-store --restore)',
  async run(argv, ctx) {
    const args = parseArgs(argv, {});
    if (args.positional.length !== 1)
      throw new UsageError("'tix store restore' takes exactly one target path");
    const dir = resolve(ctx.cwd, args.positional[0]!);
    try {
      await parseNar(ctx.stdin(), restoreSink(dir));
    } catch (e) {
      if (!isFormatError(e)) throw e;
      throw new CliError('BAD_INPUT', `cannot restore NAR from standard input to '${dir}': ${e.message}`, {
        cause: e,
      });
    }
    return 0;
  },
};
