// `tix log PATH` = `nix log` / `nix-store --read-log`: prints the build log of a derivation, or of
// the derivation that built an output path. Logs are stored plain; a Nix-style `.bz2` log is
// decompressed with the system's bzip2.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isDerivationPath } from '../../formats/derivation.js';
import type { Store } from '../../store/store.js';
import { parseArgs } from '../args.js';
import { CliError } from '../cli-error.js';
import { type Command, UsageError } from '../command.js';
import { withStore } from '../open-store.js';
import { requireCapability } from '../store-capabilities.js';
import { storeDirsOf, storePathArg } from '../store-paths.js';

/** The log text at `path` or `path.bz2`, or undefined when neither exists. */
export function readBuildLog(path: string): Uint8Array | undefined {
  const plain = path.endsWith('.bz2') ? path.slice(0, -4) : path;
  if (existsSync(plain)) return readFileSync(plain);
  const bz2 = `${plain}.bz2`;
  if (!existsSync(bz2)) return undefined;
  const r = spawnSync('bzip2', ['-dc', bz2], { maxBuffer: 1 << 30 });
  if (r.error || r.status !== 0) {
    throw new CliError(
      'SYSTEM',
      `cannot decompress build log '${bz2}': ${r.error?.message ?? r.stderr.toString().trim()}`,
    );
  }
  return r.stdout;
}

/** The build log of `drvPath` in `store` (also where tix kept logs before), if it has one. */
export function findBuildLog(store: Store, drvPath: string): Uint8Array | undefined {
  const logs = store as { buildLogPath?: (p: string) => string; oldBuildLogPath?: (p: string) => string };
  if (!logs.buildLogPath) return undefined;
  const text = readBuildLog(logs.buildLogPath(drvPath));
  return text ?? (logs.oldBuildLogPath ? readBuildLog(logs.oldBuildLogPath(drvPath)) : undefined);
}

export const log: Command = {
  name: ['log'],
  summary: 'print the build log of a derivation or output path (like nix log)',
  async run(argv, ctx) {
    const args = parseArgs(argv, {});
    if (args.positional.length !== 1) throw new UsageError("'tix log' takes exactly one path");
    return withStore(ctx, async (store) => {
      const path = storePathArg(args.positional[0]!, { cwd: ctx.cwd, ...storeDirsOf(store) });
      let drvPath = path;
      if (!isDerivationPath(path)) {
        const deriver = (await store.queryPathInfo(path))?.deriver;
        if (!deriver) throw new CliError('NOT_FOUND', `build log of '${path}' is not available`);
        drvPath = deriver;
      }
      requireCapability(store, 'buildLogPath', 'build logs');
      const text = findBuildLog(store, drvPath);
      if (text === undefined) throw new CliError('NOT_FOUND', `build log of '${path}' is not available`);
      ctx.out.write(text);
      return 0;
    });
  },
};
