// `tix store export PATH…` = `nix-store --export`: the paths (not their closure) in Nix's export
// format on stdout, each after the ones it refers to. `tix store import` = `nix-store --import`:
// reads that format from stdin, adds each path (NAR hash computed from the data, signatures not
// required, as Nix 2.8 does) and prints the paths imported.
import { WireReader } from '../../formats/wire.js';
import { exportPaths, importPaths } from '../../server/serve-export.js';
import { parseArgs } from '../args.js';
import { type Command, UsageError } from '../command.js';
import { withStore } from '../open-store.js';
import { storeDirsOf, storePathArg } from '../store-paths.js';

export const storeExport: Command = {
  name: ['store', 'export'],
  summary: 'write store paths in the nix-store --export format to stdout (like nix-store --export)',
  async run(argv, ctx) {
    const args = parseArgs(argv, {});
    return withStore(ctx, async (store) => {
      const paths = [
        ...new Set(args.positional.map((a) => storePathArg(a, { cwd: ctx.cwd, ...storeDirsOf(store) }))),
      ];
      await exportPaths(store, paths, async (chunks) => {
        for (const c of chunks) {
          if (!ctx.out.write(c)) await new Promise<void>((r) => ctx.out.once('drain', r));
        }
      });
      return 0;
    });
  },
};

export const storeImport: Command = {
  name: ['store', 'import'],
  summary: 'add store paths from the nix-store --export format on stdin (like nix-store --import)',
  async run(argv, ctx) {
    const args = parseArgs(argv, {});
    if (args.positional.length > 0) throw new UsageError('no arguments expected');
    return withStore(ctx, async (store) => {
      const inp = new WireReader(ctx.stdin(), { what: 'export stream on stdin' });
      await importPaths(store, inp, (p) => ctx.out.write(`${p}\n`));
      return 0;
    });
  },
};
