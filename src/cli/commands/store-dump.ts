// `tix store dump PATH` = `nix-store --dump`: the NAR of PATH on stdout. A path in the store dir is
// read through the store (so chroot stores work); any other path is read from the file system.
import { lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { dumpPath } from '../../store/nar-dump-disk.js';
import { parseStoreUri } from '../../store/open.js';
import { parseArgs } from '../args.js';
import { sysError } from '../cli-error.js';
import { cliSettings } from '../cli-settings.js';
import { type Command, UsageError } from '../command.js';
import { resolveCliStoreUri, withStore } from '../open-store.js';
import { requirePathInfo, storeDirsOf, storePathArg } from '../store-paths.js';

async function writeAll(out: Writable, chunks: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const c of chunks) {
    if (!out.write(c)) await new Promise<void>((r) => out.once('drain', r));
  }
}

export const storeDump: Command = {
  name: ['store', 'dump'],
  summary: 'write the NAR serialisation of a path to stdout (like nix-store --dump)',
  async run(argv, ctx) {
    const args = parseArgs(argv, {});
    if (args.positional.length !== 1) throw new UsageError("'tix store dump' takes exactly one path");
    const arg = args.positional[0]!;
    const abs = resolve(ctx.cwd, arg);
    const settings = cliSettings(ctx);
    const storeDir = parseStoreUri(resolveCliStoreUri(ctx, settings)).params.get('store') ?? '/nix/store';
    if (!abs.startsWith(`${storeDir}/`)) {
      // Not a store path: no store is opened (or created) at all.
      try {
        lstatSync(abs);
      } catch (e) {
        throw sysError(`getting status of '${abs}'`, e);
      }
      await writeAll(ctx.out, dumpPath(abs));
      return 0;
    }
    return withStore(
      ctx,
      async (store) => {
        const path = storePathArg(abs, { cwd: ctx.cwd, ...storeDirsOf(store) });
        if (path !== abs)
          throw new UsageError(`'${abs}' is inside store path '${path}'; dump the store path`);
        await requirePathInfo(store, path);
        await writeAll(ctx.out, store.narFromPath(path));
        return 0;
      },
      settings,
    );
  },
};
