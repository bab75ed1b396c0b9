// `tix path-info [-r] [--json] [-s|--size] [-S|--closure-size] [--sigs] [-h] PATH…` = Nix 2.8's
// `nix path-info`. A `.drv` argument stands for its outputs, as in 2.8.
import { compareUtf8 } from '../../formats/byte-order.js';
import { isDerivationPath } from '../../formats/derivation.js';
import { StoreError } from '../../store/errors.js';
import type { Store } from '../../store/store.js';
import { flagSet, parseArgs } from '../args.js';
import { type Command, UsageError } from '../command.js';
import { withStore } from '../open-store.js';
import { type PathInfoRow, pathInfoJson, pathInfoText } from '../path-info-format.js';
import { queryClosure, requirePathInfo, storeDirsOf, storePathArg } from '../store-paths.js';

/** The store paths an argument list denotes: `.drv` paths are replaced by their outputs. */
export async function resolveInstallables(store: Store, args: string[], cwd: string): Promise<string[]> {
  const out = new Set<string>();
  for (const a of args) {
    const p = storePathArg(a, { cwd, ...storeDirsOf(store) });
    if (isDerivationPath(p)) {
      await requirePathInfo(store, p);
      for (const o of (await store.queryDerivationOutputMap(p)).values()) out.add(o);
    } else out.add(p);
  }
  return [...out].sort(compareUtf8);
}

async function closureSize(store: Store, path: string): Promise<number> {
  let total = 0;
  for (const p of await queryClosure(store, [path])) total += (await requirePathInfo(store, p)).narSize;
  return total;
}

export const pathInfo: Command = {
  name: ['path-info'],
  summary: 'show information about store paths (like nix path-info)',
  async run(argv, ctx) {
    const args = parseArgs(argv, {
      '--recursive': { arity: 0, aliases: ['-r'] },
      '--json': { arity: 0 },
      '--size': { arity: 0, aliases: ['-s'] },
      '--closure-size': { arity: 0, aliases: ['-S'] },
      '--sigs': { arity: 0 },
      '--human-readable': { arity: 0, aliases: ['-h'] },
    });
    if (args.positional.length === 0) throw new UsageError("'tix path-info' needs at least one path");
    const json = flagSet(args, '--json') || ctx.global.json;
    const wantClosure = flagSet(args, '--closure-size');
    return withStore(ctx, async (store) => {
      let paths = await resolveInstallables(store, args.positional, ctx.cwd);
      if (flagSet(args, '--recursive')) paths = await queryClosure(store, paths);
      const rows: PathInfoRow[] = [];
      for (const path of paths) {
        const info = await store.queryPathInfo(path);
        if (!info && !json) throw new StoreError('INVALID_PATH', `path '${path}' is not valid`);
        rows.push({
          path,
          info,
          closureSize: info && wantClosure ? await closureSize(store, path) : undefined,
        });
      }
      if (json)
        ctx.out.write(pathInfoJson(rows)); // no final newline, as in 2.8
      else {
        ctx.out.write(
          pathInfoText(rows as (PathInfoRow & { info: NonNullable<PathInfoRow['info']> })[], {
            size: flagSet(args, '--size'),
            closureSize: wantClosure,
            sigs: flagSet(args, '--sigs'),
            humanReadable: flagSet(args, '--human-readable'),
          }),
        );
      }
      return 0;
    });
  },
};
