// Nix's `post-build-hook`: after a derivation was built (here or on a builder, not when its outputs
// were already valid or substituted), the hook program runs with DRV_PATH and OUT_PATHS (the
// output paths, sorted, space-separated) in its environment; its output is shown as
// `post-build-hook: …` lines, and its failure fails the build, as in Nix. Nix 2.8.0 passes an empty
// OUT_PATHS for input-addressed derivations (fixed in later Nix); tix passes the outputs.
import { spawn } from 'node:child_process';
import { BuildError } from './errors.js';

export async function runPostBuildHook(
  hook: string,
  drvPath: string,
  outputs: Iterable<string>,
  opts: { env?: NodeJS.ProcessEnv; onLogLine?: (line: string) => void } = {},
): Promise<void> {
  const outPaths = [...outputs].sort().join(' ');
  opts.onLogLine?.(`running post-build-hook '${hook}'...`);
  const child = spawn(hook, [], {
    env: { ...(opts.env ?? process.env), DRV_PATH: drvPath, OUT_PATHS: outPaths },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let partial = '';
  const onData = (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    for (const l of lines) opts.onLogLine?.(`post-build-hook: ${l}`);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', (e) =>
      reject(new BuildError('POST_BUILD_HOOK', `cannot run post-build hook '${hook}': ${e.message}`)),
    );
    child.once('close', (c, s) => resolve([c, s]));
  });
  if (partial !== '') opts.onLogLine?.(`post-build-hook: ${partial}`);
  if (code !== 0) {
    const how = signal ? `was killed by signal ${signal}` : `failed with exit code ${code}`;
    throw new BuildError('POST_BUILD_HOOK', `program '${hook}' ${how}`);
  }
}
