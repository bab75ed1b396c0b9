// `tix store sign -k KEYFILE [-r] PATHS` = `nix store sign --key-file`: adds a signature by the key
// to each path's info in the local store.
import { fingerprint } from '../../formats/narinfo.js';
import { signFingerprint } from '../../formats/signing.js';
import { readSecretKeyFiles } from '../../store/binary-cache-open.js';
import { parseNarHash } from '../../store/store-paths.js';
import { flagSet, flagValue, parseArgs } from '../args.js';
import { CliError } from '../cli-error.js';
import { type Command, UsageError } from '../command.js';
import { withStore } from '../open-store.js';
import { queryClosure, requirePathInfo, storeDirsOf, storePathArg } from '../store-paths.js';

export const storeSign: Command = {
  name: ['store', 'sign'],
  summary: 'sign store paths with a secret key (like nix store sign --key-file)',
  async run(argv, ctx) {
    const args = parseArgs(argv, {
      '--key-file': { arity: 1, aliases: ['-k'] },
      '--recursive': { arity: 0, aliases: ['-r'] },
    });
    const keyFile = flagValue(args, '--key-file');
    if (keyFile === undefined) throw new UsageError("'tix store sign' needs '--key-file FILE'");
    if (args.positional.length === 0) throw new UsageError("'tix store sign' needs at least one path");
    const [key] = readSecretKeyFiles([keyFile]);
    return withStore(ctx, async (store) => {
      const signable = store as typeof store & {
        addSignatures?: (path: string, sigs: string[]) => Promise<void>;
      };
      if (typeof signable.addSignatures !== 'function') {
        throw new CliError('UNSUPPORTED', `store '${store.uri}' does not support adding signatures`);
      }
      let paths = args.positional.map((a) => storePathArg(a, { cwd: ctx.cwd, ...storeDirsOf(store) }));
      if (flagSet(args, '--recursive')) paths = await queryClosure(store, paths);
      for (const path of paths) {
        const info = await requirePathInfo(store, path);
        const fp = fingerprint(path, parseNarHash(info.narHash, path), info.narSize, info.references);
        const sig = signFingerprint(key!, fp);
        if (!info.sigs.includes(sig)) await signable.addSignatures(path, [sig]);
      }
      return 0;
    });
  },
};
