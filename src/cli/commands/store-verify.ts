// `tix store verify PATH…` = `nix-store --verify-path`: those paths' contents against their NAR hashes.
// `tix store verify [--check-contents] [--repair]` = `nix-store --verify`: checks that every valid
// path exists (and, with --check-contents, that its NAR hash still matches); with --repair a
// damaged path is restored from a substituter that has a copy with the recorded NAR hash, or else
// by building its derivation again (repair mode), as Nix 2.8 repairs. Exit 1 on errors left.

import { HashSink, hashEquals, parseHash, printHash } from '../../formats/hash.js';
import type { Store } from '../../store/store.js';
import { flagSet, parseArgs } from '../args.js';
import { type Command, type CommandContext, UsageError } from '../command.js';
import { withStore } from '../open-store.js';
import { quiet, rebuildDeriver } from '../realise.js';
import { requireCapability } from '../store-capabilities.js';
import { requirePathInfo, storeDirsOf, storePathArg } from '../store-paths.js';
import { substitutionFromSettings } from '../substitute-hook.js';

/**
 * `nix-store --verify-path`: each path's NAR hash against the recorded one; a modified path is
 * reported as Nix 2.8 reports it, and makes the exit status 1.
 */
async function verifyPaths(store: Store, args: string[], ctx: CommandContext): Promise<number> {
  let status = 0;
  for (const arg of args) {
    const path = storePathArg(arg, { cwd: ctx.cwd, ...storeDirsOf(store) });
    const info = await requirePathInfo(store, path);
    const h = new HashSink('sha256');
    for await (const chunk of store.narFromPath(path)) h.update(chunk);
    const got = h.finish();
    const expected = parseHash(info.narHash);
    if (!hashEquals(got, expected)) {
      ctx.err.write(
        `path '${path}' was modified! expected hash '${printHash(expected, 'nix32', { prefix: true })}', got '${printHash(got, 'nix32', { prefix: true })}'\n`,
      );
      status = 1;
    }
  }
  return status;
}

export const storeVerify: Command = {
  name: ['store', 'verify'],
  summary: 'check the consistency of the store (like nix-store --verify)',
  async run(argv, ctx) {
    const args = parseArgs(argv, { '--check-contents': { arity: 0 }, '--repair': { arity: 0 } });
    if (args.positional.length > 0) {
      if (flagSet(args, '--check-contents') || flagSet(args, '--repair'))
        throw new UsageError("'tix store verify PATH…' takes no flags; see 'tix store repair'");
      return withStore(ctx, (store) => verifyPaths(store, args.positional, ctx));
    }
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
          // nix-store --verify's lines as they come; --quiet leaves out the progress.
          log: (line, level) => {
            if (level === 'error' || !quiet(ctx)) log(line);
          },
          ...(substitution ? { repairSource: (info) => substitution.repairSource(info) } : {}),
          rebuild: async (info) => {
            try {
              return await rebuildDeriver(store, info, settings, ctx, substitution);
            } catch (e) {
              ctx.err.write(`${(e as Error).message}\n`);
              return false;
            }
          },
        });
        if (errors.length === 0) return 0;
        ctx.err.write('warning: not all store errors were fixed\n');
        return 1;
      } finally {
        await substitution?.close();
      }
    });
  },
};
