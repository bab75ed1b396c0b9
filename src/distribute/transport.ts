// A Transport is a byte pipe to a remote protocol server (`nix-store --serve`, `nix-daemon
// --stdio`): the remote program's stdin/stdout, with its stderr (build logs, ssh errors) handed to
// a callback. One file per backend: ssh.ts (system ssh), exec.ts (a local command).
import { type ChildProcess, spawn } from 'node:child_process';
import { StoreError } from '../store/errors.js';
import { StreamInput } from './stream-input.js';
import { StreamOutput } from './stream-output.js';

export interface Transport {
  /** What the user named (host alias, command), for messages: "cannot connect to 'NAME'". */
  readonly name: string;
  readonly input: StreamInput;
  readonly output: StreamOutput;
  /** Resolves when the remote process (ssh or the command) exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last few KiB of stderr, for error messages. */
  stderrTail(): string;
  /** Rewrites a failure seen before the protocol started into the transport's own error, if any. */
  explainFailure(): StoreError | undefined;
  /** Closes stdin, waits (bounded) for exit, then kills. */
  close(): Promise<void>;
}

export interface TransportOptions {
  /** Receives the remote's stderr (builder output on `ssh://`, ssh's own diagnostics). */
  onStderr?: (chunk: Uint8Array) => void;
  env?: NodeJS.ProcessEnv;
}

/** Keeps the last `max` bytes of a stream as text. */
export class TailBuffer {
  private text = '';
  constructor(private readonly max = 8192) {}
  push(chunk: Uint8Array): void {
    this.text += Buffer.from(chunk).toString('utf8');
    if (this.text.length > this.max) this.text = this.text.slice(-this.max);
  }
  toString(): string {
    return this.text;
  }
}

/**
 * A Transport over a spawned process's stdio. `explain` turns an early failure (process exited
 * before the protocol got going) into a specific error, e.g. a host key mismatch. `args` may be a
 * promise (the arguments are known once a shared SSH connection is up): the process starts when
 * it resolves, reads and writes wait until then, and a rejection is the transport's failure.
 */
export function spawnTransport(
  name: string,
  file: string,
  args: string[] | Promise<string[]>,
  opts: TransportOptions & { explain?: (stderr: string, code: number | null) => StoreError | undefined },
): Transport {
  const tail = new TailBuffer();
  let status: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let startError: Error | undefined;
  let child: ChildProcess | undefined;
  let exit!: (s: { code: number | null; signal: NodeJS.Signals | null }) => void;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    exit = (s) => {
      status ??= s;
      resolve(status);
    };
  });
  let closing = false;
  const launch = (argv: string[]): ChildProcess | undefined => {
    // Closed while the connection was still being set up: never start the session.
    if (closing) return undefined;
    const c = spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    c.once('error', (e) => {
      startError = e;
      exit({ code: null, signal: null });
    });
    c.once('exit', (code, signal) => exit({ code, signal }));
    c.stderr!.on('data', (d: Buffer) => {
      const chunk = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
      tail.push(chunk);
      opts.onStderr?.(chunk);
    });
    child = c;
    return c;
  };
  let input: StreamInput;
  let output: StreamOutput;
  if (Array.isArray(args)) {
    const c = launch(args)!;
    input = new StreamInput(c.stdout!);
    output = new StreamOutput(c.stdin!);
  } else {
    const proc = args.then(launch, (e: Error) => {
      startError = e;
      exit({ code: null, signal: null });
      return undefined;
    });
    input = new StreamInput(proc.then((c) => c?.stdout ?? undefined));
    output = new StreamOutput(proc.then((c) => c?.stdin ?? undefined));
  }
  return {
    name,
    input,
    output,
    exited,
    stderrTail: () => tail.toString(),
    explainFailure() {
      if (startError instanceof StoreError) return startError;
      if (startError)
        return new StoreError('CONNECTION', `cannot connect to '${name}': ${startError.message}`);
      return opts.explain?.(tail.toString(), status?.code ?? null);
    },
    async close() {
      closing = true;
      if (!child) {
        // Still waiting for the connection (or it failed): nothing runs yet, nothing to wait for.
        exit({ code: null, signal: null });
        return;
      }
      await output.end();
      if (status) return;
      const c = child;
      const timer = setTimeout(() => c.kill('SIGKILL'), 2000);
      const term = setTimeout(() => c.kill('SIGTERM'), 500);
      await exited;
      clearTimeout(timer);
      clearTimeout(term);
    },
  };
}
