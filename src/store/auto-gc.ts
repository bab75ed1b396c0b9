// Automatic garbage collection (`min-free`, `max-free`, `min-free-check-interval`), as Nix's
// LocalStore::autoGC: at most once per interval, read the free space of the store's file system;
// when it is below `min-free` (and below `max-free`), and has dropped below 97 % of what was free
// after the previous auto-GC, collect garbage until `max-free − free` bytes are freed. Roots, temp
// roots (inputs and outputs of running builds, paths held for remote builds, paths being added)
// are never deleted: this is an ordinary collectGarbage with maxFreed. Concurrent callers in this
// process share one running collection and wait for it.
import { statfsSync } from 'node:fs';
import type { LocalStore } from './local.js';

export interface AutoGcSettings {
  /** Bytes; 0 = auto-GC off. */
  minFree: bigint;
  maxFree: bigint;
  /** Seconds between free-space checks. */
  checkInterval: number;
  /** "running auto-GC to free N bytes" and friends. */
  log?: (msg: string) => void;
  /** Free bytes on the store's file system; default statfs of the real store dir. */
  freeSpace?: () => bigint;
}

interface State {
  lastCheck: number;
  availAfterGc?: bigint;
  running?: Promise<void>;
}

const states = new WeakMap<LocalStore, State>();

export function freeSpaceOf(dir: string): bigint {
  const st = statfsSync(dir, { bigint: true });
  return st.bavail * st.bsize;
}

/** Runs an auto-GC when due (see the top of this file); resolves when none is needed or it is done. */
export async function autoGc(store: LocalStore, s: AutoGcSettings): Promise<void> {
  if (s.minFree === 0n) return;
  let st = states.get(store);
  if (!st) {
    st = { lastCheck: 0 };
    states.set(store, st);
  }
  if (st.running) return st.running;
  const now = Date.now();
  if (now < st.lastCheck + s.checkInterval * 1000) return;
  st.lastCheck = now;
  const free = s.freeSpace ?? (() => freeSpaceOf(store.realStoreDir));
  const avail = free();
  if (avail >= s.minFree || avail >= s.maxFree) return;
  if (st.availAfterGc !== undefined && avail * 100n > st.availAfterGc * 97n) return;
  const toFree = s.maxFree - avail;
  const state = st;
  state.running = (async () => {
    try {
      s.log?.(`running auto-GC to free ${toFree} bytes`);
      const r = await store.collectGarbage({
        action: 'deleteDead',
        maxFreed: toFree > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(toFree),
        // The collection's own lines too, as 2.8's auto-GC prints them.
        log: s.log,
      });
      s.log?.(`auto-GC freed ${r.bytesFreed} bytes (${r.paths.length} paths deleted)`);
    } finally {
      state.availAfterGc = free();
      state.running = undefined;
    }
  })();
  return state.running;
}
