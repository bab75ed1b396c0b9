// `builtin:unpack-channel`, the builder nix-channel --update uses (its <nix/unpack-channel.nix>):
// the channel tarball `src` unpacked into the output, its one top entry renamed to `channelName`,
// as Nix 2.8's builtins/unpack-channel.cc does. The system's tar unpacks it (gzip, bzip2 or xz).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { BuildError } from './errors.js';

/** Unpacks the channel of `env` at `out` (the output's path on disk); `realPath` finds `src` on disk. */
export function builtinUnpackChannel(
  env: ReadonlyMap<string, string>,
  out: string,
  realPath: (path: string) => string,
): void {
  const attr = (name: string) => {
    const v = env.get(name);
    if (v === undefined) throw new BuildError('BAD_DRV', `attribute '${name}' missing`);
    return v;
  };
  const channelName = attr('channelName');
  const src = attr('src');
  mkdirSync(out, { recursive: true });
  try {
    execFileSync('tar', ['-xf', realPath(src), '-C', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const why = (e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message;
    throw new BuildError('BUILD_FAILED', `cannot unpack channel tarball '${src}': ${why}`);
  }
  const entries = readdirSync(out);
  if (entries.length !== 1) {
    throw new BuildError('BUILD_FAILED', `channel tarball '${src}' contains more than one file`);
  }
  renameSync(join(out, entries[0]!), join(out, channelName));
}
