// `tix store ping` = `nix store ping`: connects to the store (--store, or the default) and prints
// its URL and, where the store says, the version behind it (a daemon's from its handshake; this
// tix for a local store), on stderr as Nix 2.8 does. A store that cannot be reached is an error,
// exit 1. A local store is named by its full URI (Nix 2.8 says "local" for any local store).
import { parseArgs } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { withStore } from '../open-store.js';

/** A name that is never valid: asking for it makes a store connect and answer, changing nothing. */
const PROBE = '00000000000000000000000000000000-tix-store-ping';

export const storePing: Command = {
  name: ['store', 'ping'],
  summary: 'connect to a store and print its URL and version (like nix store ping)',
  async run(argv, ctx) {
    const args = parseArgs(argv, {});
    if (args.positional.length > 0) throw new UsageError("'tix store ping' takes no arguments");
    return withStore(ctx, async (store) => {
      const version = store.version ? await store.version() : undefined;
      if (!store.version) await store.isValidPath(`${store.storeDir}/${PROBE}`);
      // On stderr, as Nix 2.8 prints them (its notice level).
      ctx.err.write(`Store URL: ${store.uri}\n`);
      if (version !== undefined) ctx.err.write(`Version: ${version}\n`);
      return 0;
    });
  },
};
