// Where tix is installed: the directory holding its package.json, found by walking up from this
// module (it may run from dist/src/… or from a bundle in dist/), so files shipped beside the code
// (the <tix> package set in nix/tix/) are found however tix was started.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function installDir(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'tix') {
      cached = dir;
      return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find tix's installation directory above ${import.meta.url}`);
    dir = up;
  }
}

/** The search-path entry for the bundled package set, `<tix>`. */
export function tixSearchPathEntry(): string {
  return `tix=${join(installDir(), 'nix', 'tix')}`;
}
