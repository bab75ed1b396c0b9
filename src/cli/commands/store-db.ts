// The store database in Nix's "validity registration" text format, as nix-store 2.8 reads and
// writes it (NixOS image builders and closureInfo use it): per path its line, with the hash
// given its NAR hash (base16) and NAR size, then the deriver ("" for none), the number of
// references and one line each.
// - `tix store dump-db [PATH…]` = `nix-store --dump-db`: every valid path (or those given), hashes
//   included.
// - `tix store load-db` = `nix-store --load-db`: registers what stdin lists, hashes given, as it
//   says (the files must be in the store already).
// - `tix store register-validity [--reregister] [--hash-given]` = `nix-store --register-validity`:
//   the same without hashes (computed from the files, whose metadata is canonicalised first);
//   paths already valid are left alone unless --reregister.
import { compareUtf8 } from '../../formats/byte-order.js';
import { parseHash, printHash } from '../../formats/hash.js';
import { canonicaliseTreeSync } from '../../store/fs-util.js';
import { LocalStore } from '../../store/local.js';
import { narHashSync } from '../../store/nar-dump-disk.js';
import type { ValidPathInfo } from '../../store/store.js';
import { assertStorePath } from '../../store/store-paths.js';
import { flagSet, parseArgs } from '../args.js';
import { CliError } from '../cli-error.js';
import { type Command, type CommandContext, UsageError } from '../command.js';
import { withStore } from '../open-store.js';
import { storeDirsOf, storePathArg } from '../store-paths.js';

async function localStoreFor(
  ctx: CommandContext,
  f: (store: LocalStore) => Promise<number>,
): Promise<number> {
  return withStore(ctx, (store) => {
    if (!(store instanceof LocalStore))
      throw new CliError('UNSUPPORTED', `store '${store.uri}' has no database this command can reach`);
    return f(store);
  });
}

export const storeDumpDb: Command = {
  name: ['store', 'dump-db'],
  summary: "print the store's database as validity registrations (like nix-store --dump-db)",
  async run(argv, ctx) {
    const args = parseArgs(argv, {});
    return localStoreFor(ctx, async (store) => {
      const paths =
        args.positional.length > 0
          ? args.positional.map((a) => storePathArg(a, { cwd: ctx.cwd, ...storeDirsOf(store) }))
          : [...store.db.allValidPaths()].sort(compareUtf8);
      const out: string[] = [];
      for (const p of paths) {
        const info = store.queryPathInfoSync(p);
        if (!info) throw new CliError('INVALID_PATH', `path '${p}' is not valid`);
        out.push(p, printHash(parseHash(info.narHash), 'base16'), String(info.narSize), info.deriver ?? '');
        out.push(String(info.references.length), ...info.references);
      }
      ctx.out.write(out.map((l) => `${l}\n`).join(''));
      return 0;
    });
  },
};

/** Reads registrations from stdin (Nix's decodeValidPathInfo); `hashGiven`: with hash and size lines. */
async function readRegistrations(ctx: CommandContext, storeDir: string, hashGiven: boolean) {
  const chunks: Uint8Array[] = [];
  for await (const c of ctx.stdin()) chunks.push(c);
  const lines = Buffer.concat(chunks).toString('utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  let i = 0;
  const bad = (what: string, detail: string) =>
    new CliError('BAD_INPUT', `${detail}: ${what} at line ${i} of the registrations on stdin`);
  const next = (what: string): string => {
    if (i >= lines.length) {
      i++;
      throw bad(what, 'missing input');
    }
    return lines[i++]!;
  };
  const number = (what: string): number => {
    const s = next(what);
    if (!/^[0-9]+$/.test(s)) throw bad(what, `number expected, not '${s}'`);
    return Number(s);
  };
  const path = (what: string, p: string): string => {
    try {
      assertStorePath(p, storeDir);
    } catch (e) {
      throw bad(what, (e as Error).message);
    }
    return p;
  };
  const out: { path: string; narHash?: string; narSize?: number; deriver?: string; references: string[] }[] =
    [];
  while (i < lines.length) {
    const p = path('the store path', next('the store path'));
    let narHash: string | undefined;
    let narSize: number | undefined;
    if (hashGiven) {
      const h = next('the NAR hash');
      try {
        narHash = printHash(parseHash(h, { algo: 'sha256' }), 'base16', { prefix: true });
      } catch (e) {
        throw bad('the NAR hash', (e as Error).message);
      }
      narSize = number('the NAR size');
    }
    const d = next('the deriver');
    if (d !== '') path('the deriver', d);
    const n = number('the number of references');
    const references: string[] = [];
    for (let k = 0; k < n; k++) references.push(path('a reference', next('a reference')));
    out.push({
      path: p,
      narHash,
      narSize,
      deriver: d || undefined,
      references: references.sort(compareUtf8),
    });
  }
  return out;
}

async function register(
  ctx: CommandContext,
  opts: { reregister: boolean; hashGiven: boolean; canonicalise: boolean },
): Promise<number> {
  return localStoreFor(ctx, async (store) => {
    const regs = await readRegistrations(ctx, store.storeDir, opts.hashGiven);
    const infos = new Map<string, ValidPathInfo>();
    for (const r of regs) {
      if (!opts.reregister && store.isValidPathSync(r.path)) continue;
      const real = store.toRealPath(r.path);
      let { narHash, narSize } = r;
      if (opts.canonicalise) canonicaliseTreeSync(real);
      if (narHash === undefined) {
        let nar: ReturnType<typeof narHashSync>;
        try {
          nar = narHashSync(real);
        } catch (e) {
          throw new CliError('INVALID_PATH', `getting status of '${real}': ${(e as Error).message}`);
        }
        narHash = printHash(nar.hash, 'base16', { prefix: true });
        narSize = nar.size;
      }
      const info: ValidPathInfo = {
        path: r.path,
        narHash,
        narSize: narSize!,
        references: r.references,
        registrationTime: Math.floor(Date.now() / 1000),
        ultimate: false,
        sigs: [],
      };
      if (r.deriver !== undefined) info.deriver = r.deriver;
      infos.set(r.path, info);
    }
    if (infos.size > 0) store.registerValidPaths([...infos.values()]);
    return 0;
  });
}

export const storeLoadDb: Command = {
  name: ['store', 'load-db'],
  summary: 'register the paths that validity registrations on stdin list (like nix-store --load-db)',
  async run(argv, ctx) {
    if (parseArgs(argv, {}).positional.length > 0) throw new UsageError('no arguments expected');
    return register(ctx, { reregister: true, hashGiven: true, canonicalise: false });
  },
};

export const storeRegisterValidity: Command = {
  name: ['store', 'register-validity'],
  summary: 'register paths already in the store as valid (like nix-store --register-validity)',
  async run(argv, ctx) {
    const args = parseArgs(argv, { '--reregister': { arity: 0 }, '--hash-given': { arity: 0 } });
    if (args.positional.length > 0) throw new UsageError('no arguments expected');
    return register(ctx, {
      reregister: flagSet(args, '--reregister'),
      hashGiven: flagSet(args, '--hash-given'),
      canonicalise: true,
    });
  },
};
