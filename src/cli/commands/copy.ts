// `tix copy --to URI PATHS` / `tix copy --from URI PATHS` = Nix 2.8's `nix copy`: copies the
// closures of PATHS between the store (`--store`) and another store, e.g. a binary cache
// (`file:///dir`, `http://host`) or a remote machine (`ssh://host`, `exec://COMMAND`, through the
// serve protocol). `--compression` sets the destination's `compression` parameter.
import { openRemoteStore } from '../../distribute/connect.js';
import { type CopyOptions, copyClosure, copyPaths } from '../../distribute/copy.js';
import { openStore } from '../../store/open.js';
import type { Store, ValidPathInfo } from '../../store/store.js';
import { flagSet, flagValue, parseArgs } from '../args.js';
import { cliSettings } from '../cli-settings.js';
import { type Command, UsageError } from '../command.js';
import { openCliStore } from '../open-store.js';
import { storeDirsOf, storePathArg } from '../store-paths.js';

function withParam(uri: string, key: string, value: string): string {
  const u = uri.includes('?') ? uri.replace(new RegExp(`([?&])${key}=[^&]*&?`), '$1') : uri;
  const sep = u.includes('?') ? (u.endsWith('?') || u.endsWith('&') ? '' : '&') : '?';
  return `${u}${sep}${key}=${encodeURIComponent(value)}`;
}

/** ssh:// and exec:// are serve-protocol remotes (with `connect-timeout`); the rest go to openStore. */
function isServeUri(uri: string): boolean {
  return uri.startsWith('ssh://') || uri.startsWith('exec://');
}

export const copy: Command = {
  name: ['copy'],
  summary: 'copy store path closures to or from another store, e.g. a binary cache (like nix copy)',
  async run(argv, ctx) {
    const args = parseArgs(argv, {
      '--to': { arity: 1 },
      '--from': { arity: 1 },
      '--compression': { arity: 1 },
      '--no-recursive': { arity: 0 },
      '--no-check-sigs': { arity: 0 },
      '--substitute-on-destination': { arity: 0, aliases: ['-s'] },
    });
    const to = flagValue(args, '--to');
    const from = flagValue(args, '--from');
    if ((to === undefined) === (from === undefined))
      throw new UsageError("'tix copy' needs exactly one of '--to URI' and '--from URI'");
    if (args.positional.length === 0) throw new UsageError("'tix copy' needs at least one path");
    const compression = flagValue(args, '--compression');
    const settings = cliSettings(ctx);
    const storeSettings = { get: (k: string) => settings.text(k) };
    const open = (uri: string): Promise<Store> =>
      isServeUri(uri)
        ? openRemoteStore(uri, { env: ctx.env, connectTimeout: settings.get('connect-timeout') })
        : openStore(uri, { settings: storeSettings, env: ctx.env });
    const local = await openCliStore(ctx, settings);
    let other: Store | undefined;
    try {
      if (to !== undefined) {
        other = await open(compression ? withParam(to, 'compression', compression) : to);
      } else {
        if (compression) throw new UsageError("'--compression' applies to '--to' only");
        other = await open(from!);
      }
      const [src, dst] = to !== undefined ? [local, other] : [other, local];
      const paths = args.positional.map((a) => storePathArg(a, { cwd: ctx.cwd, ...storeDirsOf(src) }));
      const opts: CopyOptions = {
        checkSigs: !flagSet(args, '--no-check-sigs'),
        substitute: flagSet(args, '--substitute-on-destination'),
        onCopied: (info: ValidPathInfo) => ctx.err.write(`copying path '${info.path}' to '${dst.uri}'...\n`),
      };
      if (flagSet(args, '--no-recursive')) await copyPaths(src, dst, paths, opts);
      else await copyClosure(src, dst, paths, opts);
      return 0;
    } finally {
      await other?.close();
      await local.close();
    }
  },
};
