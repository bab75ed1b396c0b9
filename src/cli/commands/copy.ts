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
import { type Command, type CommandContext, UsageError } from '../command.js';
import { openCliStore } from '../open-store.js';
import { computeFSClosure, storeDirsOf, storePathArg } from '../store-paths.js';

function withParam(uri: string, key: string, value: string): string {
  const u = uri.includes('?') ? uri.replace(new RegExp(`([?&])${key}=[^&]*&?`), '$1') : uri;
  const sep = u.includes('?') ? (u.endsWith('?') || u.endsWith('&') ? '' : '&') : '?';
  return `${u}${sep}${key}=${encodeURIComponent(value)}`;
}

/** ssh:// and exec:// are serve-protocol remotes (with `connect-timeout`); the rest go to openStore. */
function isServeUri(uri: string): boolean {
  return uri.startsWith('ssh://') || uri.startsWith('exec://');
}

interface CopyRequest {
  to?: string;
  from?: string;
  args: string[];
  compression?: string;
  checkSigs: boolean;
  substitute: boolean;
  recursive: boolean;
  /** nix-copy-closure --include-outputs: the valid outputs of the derivations copied go too. */
  includeOutputs?: boolean;
}

/** Copies between the command's store and the store at `to` or `from`. */
async function runCopy(ctx: CommandContext, r: CopyRequest): Promise<number> {
  const settings = cliSettings(ctx);
  const storeSettings = { get: (k: string) => settings.text(k) };
  const open = (uri: string): Promise<Store> =>
    isServeUri(uri)
      ? openRemoteStore(uri, { env: ctx.env, connectTimeout: settings.get('connect-timeout') })
      : openStore(uri, { settings: storeSettings, env: ctx.env });
  const local = await openCliStore(ctx, settings);
  let other: Store | undefined;
  try {
    if (r.to !== undefined) {
      other = await open(r.compression ? withParam(r.to, 'compression', r.compression) : r.to);
    } else {
      if (r.compression) throw new UsageError("'--compression' applies to '--to' only");
      other = await open(r.from!);
    }
    const [src, dst] = r.to !== undefined ? [local, other] : [other, local];
    let paths = r.args.map((a) => storePathArg(a, { cwd: ctx.cwd, ...storeDirsOf(src) }));
    if (r.includeOutputs) paths = await withOutputs(src, paths);
    const opts: CopyOptions = {
      checkSigs: r.checkSigs,
      substitute: r.substitute,
      onCopied: (info: ValidPathInfo) => ctx.err.write(`copying path '${info.path}' to '${dst.uri}'...\n`),
    };
    if (!r.recursive) await copyPaths(src, dst, paths, opts);
    else await copyClosure(src, dst, paths, opts);
    return 0;
  } finally {
    await other?.close();
    await local.close();
  }
}

/** nix-copy-closure --include-outputs: the closure of `paths` with derivations' valid outputs. */
async function withOutputs(store: Store, paths: string[]): Promise<string[]> {
  const closure = new Set<string>();
  for (const p of paths) await computeFSClosure(store, p, closure, { includeOutputs: true });
  return [...closure];
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
    return runCopy(ctx, {
      ...(to !== undefined ? { to } : { from: from! }),
      args: args.positional,
      compression: flagValue(args, '--compression'),
      checkSigs: !flagSet(args, '--no-check-sigs'),
      substitute: flagSet(args, '--substitute-on-destination'),
      recursive: !flagSet(args, '--no-recursive'),
    });
  },
};

/**
 * `tix copy-closure [--to | --from] HOST PATH…` = `nix-copy-closure`: the closures go to (default)
 * or come from `ssh://HOST` through the serve protocol, without signature checks as in Nix 2.8;
 * `--include-outputs` adds the derivations' outputs, `-s`/`--use-substitutes` lets the
 * destination substitute, `--gzip` compresses the ssh connection.
 */
export const copyClosureCommand: Command = {
  name: ['copy-closure'],
  summary: 'copy store path closures to or from a machine over ssh (like nix-copy-closure)',
  async run(argv, ctx) {
    const args = parseArgs(argv, {
      '--to': { arity: 0 },
      '--from': { arity: 0 },
      '--gzip': { arity: 0 },
      '--include-outputs': { arity: 0 },
      '--use-substitutes': { arity: 0, aliases: ['-s'] },
    });
    if (flagSet(args, '--to') && flagSet(args, '--from'))
      throw new UsageError("'--to' and '--from' conflict");
    const [host, ...paths] = args.positional;
    if (host === undefined) throw new UsageError("'tix copy-closure' needs a host");
    let uri = `ssh://${host}`;
    if (flagSet(args, '--gzip')) uri = withParam(uri, 'compress', 'true');
    return runCopy(ctx, {
      ...(flagSet(args, '--from') ? { from: uri } : { to: uri }),
      args: paths,
      checkSigs: false,
      substitute: flagSet(args, '--use-substitutes'),
      recursive: true,
      includeOutputs: flagSet(args, '--include-outputs'),
    });
  },
};
