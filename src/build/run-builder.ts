// Runs one builder process (bwrap + builder), streams its output as lines, enforces
// `max-silent-time` and `timeout` by killing the whole process tree, and reports how it ended.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export interface RunBuilderOptions {
  /** Program and arguments; `argsFd` arguments are passed NUL-separated on fd 3 (bwrap --args 3). */
  command: string;
  argv: string[];
  argsOnFd3?: string[];
  env: Map<string, string>;
  /** Seconds without output before the build is killed; 0 = no limit. */
  maxSilentTime: number;
  /** Seconds of total build time; 0 = no limit. */
  timeout: number;
  /** `max-build-log-size`: bytes of output before the build is killed; 0 or absent = no limit. */
  maxLogSize?: number;
  /** Every byte the builder writes to stdout/stderr, in order. */
  onOutput: (chunk: Buffer) => void;
  /** Aborting kills the builder (status `killed`). */
  signal?: AbortSignal;
  /** Shell commands run (as the caller) before exec'ing `command`: join a cgroup, set rlimits. */
  preExec?: string;
  /** Runs everything (the shell and `command`) as this user, without supplementary groups. */
  uid?: number;
  gid?: number;
  /** Called when the build is killed (timeout, silence, abort), e.g. to kill its cgroup. */
  onKill?: () => void;
}

export type RunBuilderOutcome =
  | { kind: 'exited'; code: number }
  | { kind: 'signaled'; signal: number; description: string }
  | { kind: 'silent'; seconds: number }
  | { kind: 'timeout'; seconds: number }
  | { kind: 'logLimit'; bytes: number }
  | { kind: 'aborted' };

/** Nix's statusToString for a finished child. */
export function describeOutcome(o: RunBuilderOutcome): string {
  if (o.kind === 'exited') return `failed with exit code ${o.code}`;
  if (o.kind === 'signaled') return `failed due to signal ${o.signal} (${o.description})`;
  return 'died abnormally';
}

const SIGNAL_NAMES: Record<string, string> = {
  SIGKILL: 'Killed',
  SIGTERM: 'Terminated',
  SIGSEGV: 'Segmentation fault',
  SIGABRT: 'Aborted',
  SIGINT: 'Interrupt',
  SIGHUP: 'Hangup',
  SIGPIPE: 'Broken pipe',
  SIGBUS: 'Bus error',
  SIGFPE: 'Floating point exception',
  SIGILL: 'Illegal instruction',
  SIGQUIT: 'Quit',
  SIGALRM: 'Alarm clock',
  SIGUSR1: 'User defined signal 1',
  SIGUSR2: 'User defined signal 2',
};

export function runBuilder(opts: RunBuilderOptions): Promise<RunBuilderOutcome> {
  return new Promise((resolve, reject) => {
    // One pipe for stdout and stderr (the host's /bin/sh duplicates it), so that the log keeps the
    // order in which the builder wrote, as with Nix's single pseudo-terminal.
    const script = `${opts.preExec ?? ''}exec "$0" "$@" 2>&1`;
    const child = spawn('/bin/sh', ['-c', script, opts.command, ...opts.argv], {
      env: Object.fromEntries(opts.env),
      stdio: ['ignore', 'pipe', 'ignore', opts.argsOnFd3 ? 'pipe' : 'ignore'],
      detached: true,
      ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
      ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
    });
    let verdict: RunBuilderOutcome | undefined;
    const started = Date.now();
    let lastOutput = started;
    const kill = (v: RunBuilderOutcome) => {
      verdict ??= v;
      try {
        // bwrap runs in its own process group (detached); its --die-with-parent and the pid
        // namespace take every descendant with it.
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      opts.onKill?.();
    };
    let logged = 0;
    const onChunk = (c: Buffer) => {
      if (verdict) return;
      lastOutput = Date.now();
      logged += c.length;
      if (opts.maxLogSize && logged > opts.maxLogSize) {
        kill({ kind: 'logLimit', bytes: opts.maxLogSize });
        return;
      }
      opts.onOutput(c);
    };
    child.stdout?.on('data', onChunk);
    if (opts.argsOnFd3) {
      const fd3 = child.stdio[3] as NodeJS.WritableStream;
      fd3.on('error', () => {});
      fd3.end(Buffer.from(opts.argsOnFd3.map((s) => `${s}\0`).join('')));
    }
    const timer =
      opts.maxSilentTime > 0 || opts.timeout > 0
        ? setInterval(() => {
            const now = Date.now();
            if (opts.maxSilentTime > 0 && now - lastOutput >= opts.maxSilentTime * 1000) {
              kill({ kind: 'silent', seconds: opts.maxSilentTime });
            } else if (opts.timeout > 0 && now - started >= opts.timeout * 1000) {
              kill({ kind: 'timeout', seconds: opts.timeout });
            }
          }, 100)
        : undefined;
    const onAbort = () => kill({ kind: 'aborted' });
    opts.signal?.addEventListener('abort', onAbort);
    if (opts.signal?.aborted) onAbort();
    child.on('error', (e) => {
      if (timer) clearInterval(timer);
      reject(e);
    });
    child.on('close', (code, sig) => {
      if (timer) clearInterval(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (verdict) return resolve(verdict);
      if (sig) {
        const num = constants.signals[sig] ?? 0;
        return resolve({ kind: 'signaled', signal: num, description: SIGNAL_NAMES[sig] ?? sig });
      }
      resolve({ kind: 'exited', code: code ?? 1 });
    });
  });
}
