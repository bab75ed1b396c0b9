// Running an interactive program (a shell, an editor) in the foreground of this terminal, as
// system(3) does: the terminal's interrupt and quit keys are for the program, not for tix, and
// the status is what a shell shows for it (128 + the signal when one killed it).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export interface ForegroundOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** argv[0] as the program sees it; default the file. */
  argv0?: string;
  /** The error when the program cannot be started at all. */
  spawnError: (e: NodeJS.ErrnoException) => Error;
}

export function runInForeground(file: string, args: string[], opts: ForegroundOptions): Promise<number> {
  const ignore = () => {};
  process.on('SIGINT', ignore);
  process.on('SIGQUIT', ignore);
  return new Promise<number>((resolve, reject) => {
    const child = spawn(file, args, { argv0: opts.argv0, env: opts.env, cwd: opts.cwd, stdio: 'inherit' });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGTERM', forward);
    process.on('SIGHUP', forward);
    const done = () => {
      process.off('SIGINT', ignore);
      process.off('SIGQUIT', ignore);
      process.off('SIGTERM', forward);
      process.off('SIGHUP', forward);
    };
    child.on('error', (e) => {
      done();
      reject(opts.spawnError(e));
    });
    child.on('exit', (code, signal) => {
      done();
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}
