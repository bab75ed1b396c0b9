// `tix store repair PATH…` = `nix-store --repair-path` (`nix store repair`): each damaged path is
// fetched again from a substituter with a copy of the recorded NAR hash, or else built again from
// its derivation (repair mode), or the command fails with Nix 2.8's "cannot repair path". A path
// whose contents are intact is left as it is (Nix would fetch it again, or fail without a source).
// `tix store print-env DRV` = `nix-store --print-env`: the derivation's environment as shell code.
import { contentsGood } from '../../build/build-one.js';
import type { LocalBuildStore } from '../../build/local-store-view.js';
import { shellEscape } from '../../build/structured-attrs.js';
import { isDerivationPath } from '../../formats/derivation.js';
import { parseArgs } from '../args.js';
import { CliError } from '../cli-error.js';
import { type Command, UsageError } from '../command.js';
import { withStore } from '../open-store.js';
import { rebuildDeriver, repairFromSubstituters } from '../realise.js';
import { readStoreDerivation, requirePathInfo, storeDirsOf, storePathArg } from '../store-paths.js';
import { substitutionFromSettings } from '../substitute-hook.js';

export const storeRepair: Command = {
  name: ['store', 'repair'],
  summary:
    'repair damaged store paths from a substituter or by building them again (like nix-store --repair-path)',
  async run(argv, ctx) {
    const args = parseArgs(argv, {});
    if (args.positional.length === 0) throw new UsageError("'tix store repair' needs at least one path");
    return withStore(ctx, async (store, settings) => {
      if (typeof (store as Partial<LocalBuildStore>).queryPathInfoSync !== 'function')
        throw new CliError('UNSUPPORTED', `store '${store.uri}' does not support repairing paths`);
      const local = store as LocalBuildStore;
      const log = (line: string) => ctx.err.write(`${line}\n`);
      const substitution = substitutionFromSettings(store, settings, { env: ctx.env, log });
      try {
        for (const arg of args.positional) {
          const path = storePathArg(arg, { cwd: ctx.cwd, ...storeDirsOf(store) });
          const info = await requirePathInfo(store, path);
          if (contentsGood(local, path)) continue;
          if (await repairFromSubstituters(local, substitution)(path)) continue;
          if (!(await rebuildDeriver(store, info, settings, ctx, substitution)))
            throw new CliError('BUILD_FAILED', `cannot repair path '${path}'`);
        }
        return 0;
      } finally {
        await substitution?.close();
      }
    });
  },
};

export const storePrintEnv: Command = {
  name: ['store', 'print-env'],
  summary: "print a derivation's environment as shell code (like nix-store --print-env)",
  async run(argv, ctx) {
    const args = parseArgs(argv, {});
    if (args.positional.length !== 1)
      throw new UsageError("'--print-env' requires one derivation store path");
    return withStore(ctx, async (store) => {
      const drvPath = storePathArg(args.positional[0]!, { cwd: ctx.cwd, ...storeDirsOf(store) });
      if (!isDerivationPath(drvPath)) throw new UsageError(`'${drvPath}' is not a derivation`);
      const drv = await readStoreDerivation(store, drvPath);
      const lines = [...drv.env].map(([k, v]) => `export ${k}; ${k}=${shellEscape(v)}\n`);
      lines.push(`export _args; _args='${drv.args.map(shellEscape).join(' ')}'\n`);
      ctx.out.write(lines.join(''));
      return 0;
    });
  },
};
