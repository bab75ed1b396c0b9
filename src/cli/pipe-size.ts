// Larger pipe buffers for the stdio of a protocol server. sshd hands a remote command its stdin
// as a pipe of 64 KiB: while the server hashes and writes a chunk to disk, sshd can run ahead by
// only that much before it stops reading the network, so the transfer stalls at every such pause.
// A 1 MiB pipe (Linux F_SETPIPE_SZ, through the fs-ext addon; Node has no fcntl) keeps data flowing.
// A protocol server reads such a stdin with FdInput (1 MiB reads), anything else with Node's stream.
import { fstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import { FdInput } from '../distribute/fd-input.js';
import type { PullQueue } from '../distribute/pull-queue.js';
import { StreamInput } from '../distribute/stream-input.js';

const F_SETPIPE_SZ = 1031;
export const PIPE_BYTES = 1 << 20;

/** Grows the pipe behind `fd` to PIPE_BYTES; returns the new size, or undefined if `fd` is no pipe (or not Linux). */
export function growPipe(fd: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const fsExt = createRequire(import.meta.url)('fs-ext') as {
      fcntlSync(fd: number, cmd: number, arg: number): number;
    };
    return fsExt.fcntlSync(fd, F_SETPIPE_SZ, PIPE_BYTES);
  } catch {
    // Not a pipe (a socket, a file, a terminal) or over the system's pipe-max-size: keep it.
    return undefined;
  }
}

/** True if `fd` is a pipe or a socket (what FdInput reads). */
export function isPipe(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

/** A protocol server's stdin as a pull source: grown and read with FdInput when it is a pipe or socket. */
export function serverStdin(): PullQueue {
  growPipe(0);
  return isPipe(0) ? new FdInput(0) : new StreamInput(process.stdin);
}
