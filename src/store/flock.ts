// flock(2) on file descriptors, through the `fs-ext` native addon (Node has no flock of its own).
// Only the non-blocking and the explicitly blocking forms are exposed: waiting is done by polling in
// async code (a blocking flock in libuv's thread pool could starve it).
import { createRequire } from 'node:module';

type FlockOp = 'sh' | 'ex' | 'shnb' | 'exnb' | 'un';
const fsExt = createRequire(import.meta.url)('fs-ext') as { flockSync(fd: number, op: FlockOp): void };

/** Tries to take a shared or exclusive lock; false if another open file holds a conflicting one. */
export function tryFlock(fd: number, mode: 'sh' | 'ex'): boolean {
  try {
    fsExt.flockSync(fd, mode === 'ex' ? 'exnb' : 'shnb');
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return false;
    throw e;
  }
}

/** Takes the lock, blocking the whole thread until it is free. For synchronous callers only. */
export function flockBlocking(fd: number, mode: 'sh' | 'ex'): void {
  fsExt.flockSync(fd, mode);
}

export function unflock(fd: number): void {
  fsExt.flockSync(fd, 'un');
}
