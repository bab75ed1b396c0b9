// Nix's `pre-build-hook`: before a sandboxed build the hook program runs with the derivation's path
// as its argument (Nix passes the chroot directory too; tix's sandbox has none on the host, so only
// the derivation is passed), and its standard output may ask for more sandbox paths:
//   extra-sandbox-paths        (or extra-chroot-dirs)
//   /path/a
//   /target=/source
//   <empty line>
// Any other line is an error, as in Nix. The hook's failure fails the build.
import { execFile } from 'node:child_process';
import { BuildError } from './errors.js';

/** The extra sandbox paths `hook` asks for when `drvPath` is about to be built. */
export async function runPreBuildHook(
  hook: string,
  drvPath: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(hook, [drvPath], { env, maxBuffer: 1 << 20 }, (err, out, errOut) => {
      if (err) {
        const how = typeof err.code === 'number' ? `failed with exit code ${err.code}` : err.message;
        reject(
          new BuildError('PRE_BUILD_HOOK', `program '${hook}' ${how}${errOut ? `: ${errOut.trim()}` : ''}`),
        );
      } else resolve(out);
    });
  });
  const extra: string[] = [];
  let collecting = false;
  for (const line of stdout.split('\n')) {
    if (collecting) {
      if (line === '') collecting = false;
      else extra.push(line);
    } else if (line === 'extra-sandbox-paths' || line === 'extra-chroot-dirs') {
      collecting = true;
    } else if (line !== '') {
      throw new BuildError('PRE_BUILD_HOOK', `unknown pre-build hook command '${line}'`);
    }
  }
  return extra;
}
