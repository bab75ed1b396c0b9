// The global GC lock (`<stateDir>/gc.lock`): the collector (and verify, which removes leftovers) holds
// it exclusively; adding a temp root holds it shared for a moment. The file is never deleted.
import { closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tryFlock } from './flock.js';
import type { TempRoots } from './temp-roots.js';

/** Takes gc.lock exclusively (waiting for other collectors and root adders) and marks `roots`. */
export async function acquireGcLock(stateDir: string, roots: TempRoots): Promise<() => void> {
  const fd = openSync(join(stateDir, 'gc.lock'), constants.O_RDWR | constants.O_CREAT, 0o600);
  let delay = 2;
  while (roots.inCollection || !tryFlock(fd, 'ex')) {
    await sleep(delay);
    delay = Math.min(delay * 1.5, 100);
  }
  roots.inCollection = true;
  return () => {
    roots.inCollection = false;
    closeSync(fd);
  };
}
