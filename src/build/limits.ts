// Per-build resource limits (`build-memory-max`, `build-pids-max`, tix-specific settings).
// Preferred: a per-build cgroup `tix-build-<pid>-<n>` under a tix-owned subtree `tix-builds` of
// this process's own cgroup — cgroup v2 (`memory.max`, `memory.swap.max` = 0, `pids.max`) when
// the unified hierarchy offers the controllers, else v1 (`memory.limit_in_bytes` and
// `memory.memsw.limit_in_bytes`, `pids.max`, each in its own hierarchy). The builder's shell joins
// the cgroup before exec'ing the sandbox, so every process of the build is in it; killing the
// build kills the whole cgroup, and an OOM kill is read back from `memory.events` (v2) or
// `memory.oom_control` (v1), field `oom_kill`.
// Fallback when no writable cgroup exists: rlimits set by that shell — `ulimit -v` (RLIMIT_AS, in
// KiB, per process: allocations fail instead of an OOM kill, so the failure is not recognised as
// one) and `ulimit -p` (RLIMIT_NPROC: counted per uid, so it only works per build with build
// users; root is exempt).
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface BuildLimits {
  /** Bytes; 0 or undefined = no limit. */
  memoryMax?: number;
  /** Processes and threads; 0 or undefined = no limit. */
  pidsMax?: number;
}

export function hasLimits(l: BuildLimits | undefined): l is BuildLimits {
  return !!l && ((l.memoryMax ?? 0) > 0 || (l.pidsMax ?? 0) > 0);
}

export interface BuildCgroup {
  version: 1 | 2;
  /** The per-build cgroup directories (one per v1 hierarchy, one for v2). */
  dirs: string[];
  /** Shell commands that move the shell (`$$`) into the cgroup(s). */
  joinShell: string;
  /** Whether the kernel OOM-killed a process of the build. */
  oomKilled(): boolean;
  /** One pass of SIGKILL over every process in the cgroup(s) (synchronous). */
  killSync(): void;
  /** Kills everything in it until empty, then removes the directories. */
  destroy(): Promise<void>;
}

interface Mount {
  path: string;
  version: 1 | 2;
  options: string[];
}

function mounts(): Mount[] {
  const out: Mount[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const dash = line.split(' - ');
    if (dash.length < 2) continue;
    const [fstype, , superOpts] = dash[1]!.split(' ');
    const path = line.split(' ')[4]!;
    if (fstype === 'cgroup2') out.push({ path, version: 2, options: [] });
    else if (fstype === 'cgroup') out.push({ path, version: 1, options: (superOpts ?? '').split(',') });
  }
  return out;
}

/** This process's cgroup per v1 controller name, and '' for v2. */
function ownCgroups(): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const parts = line.split(':');
    if (parts.length < 3) continue;
    const path = parts.slice(2).join(':');
    if (parts[1] === '') m.set('', path);
    for (const c of parts[1]!.split(',')) if (c !== '') m.set(c, path);
  }
  return m;
}

function q(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}

let counter = 0;

function tryWrite(file: string, text: string): boolean {
  try {
    writeFileSync(file, text);
    return true;
  } catch {
    return false;
  }
}

function readField(file: string, field: string): number {
  try {
    const m = new RegExp(`^${field} (\\d+)$`, 'm').exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function procsOf(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
  } catch {
    return [];
  }
}

function killAll(dirs: string[]): number {
  let n = 0;
  for (const d of dirs) {
    if (tryWrite(join(d, 'cgroup.kill'), '1')) continue;
    for (const pid of procsOf(d)) {
      n++;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  return n;
}

function makeCgroup(version: 1 | 2, dirs: string[], oomFile: string | undefined): BuildCgroup {
  return {
    version,
    dirs,
    joinShell: dirs.map((d) => `echo $$ > ${q(join(d, 'cgroup.procs'))} || exit 126; `).join(''),
    oomKilled: () => (oomFile ? readField(oomFile, 'oom_kill') > 0 : false),
    killSync: () => {
      killAll(dirs);
    },
    destroy: async () => {
      for (let round = 0; round < 400; round++) {
        killAll(dirs);
        if (dirs.every((d) => procsOf(d).length === 0)) {
          for (const d of dirs) {
            try {
              rmdirSync(d);
            } catch (e) {
              if ((e as NodeJS.ErrnoException).code !== 'ENOENT') break;
            }
          }
          if (dirs.every((d) => !existsSync(d))) return;
        }
        await sleep(round < 20 ? 5 : 50);
      }
    },
  };
}

/** A v2 per-build cgroup, or undefined when the unified hierarchy lacks the controllers or access. */
function cgroupV2(name: string, l: BuildLimits): BuildCgroup | undefined {
  const mount = mounts().find((m) => m.version === 2);
  const own = ownCgroups().get('');
  if (!mount || own === undefined) return undefined;
  const ownDir = join(mount.path, own);
  const need = [...((l.memoryMax ?? 0) > 0 ? ['memory'] : []), ...((l.pidsMax ?? 0) > 0 ? ['pids'] : [])];
  let available: string[];
  try {
    available = readFileSync(join(ownDir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
  } catch {
    return undefined;
  }
  if (!need.every((c) => available.includes(c))) return undefined;
  const enable = need.map((c) => `+${c}`).join(' ');
  const base = join(ownDir, 'tix-builds');
  try {
    mkdirSync(base, { recursive: true });
  } catch {
    return undefined;
  }
  // "No internal processes": controllers can only be delegated from a cgroup without processes
  // of its own. Like Nix's daemon, move this process into a child ("tix-supervisor") once.
  if (!tryWrite(join(ownDir, 'cgroup.subtree_control'), enable)) {
    const sup = join(ownDir, 'tix-supervisor');
    try {
      mkdirSync(sup, { recursive: true });
    } catch {
      return undefined;
    }
    if (!tryWrite(join(sup, 'cgroup.procs'), String(process.pid))) return undefined;
    if (!tryWrite(join(ownDir, 'cgroup.subtree_control'), enable)) return undefined;
  }
  if (!tryWrite(join(base, 'cgroup.subtree_control'), enable)) return undefined;
  const dir = join(base, name);
  try {
    mkdirSync(dir);
  } catch {
    return undefined;
  }
  const ok =
    ((l.memoryMax ?? 0) === 0 ||
      (tryWrite(join(dir, 'memory.max'), String(l.memoryMax)) &&
        (!existsSync(join(dir, 'memory.swap.max')) || tryWrite(join(dir, 'memory.swap.max'), '0')))) &&
    ((l.pidsMax ?? 0) === 0 || tryWrite(join(dir, 'pids.max'), String(l.pidsMax)));
  if (!ok) {
    rmdirSync(dir);
    return undefined;
  }
  return makeCgroup(2, [dir], (l.memoryMax ?? 0) > 0 ? join(dir, 'memory.events') : undefined);
}

/** v1 per-build cgroups (one per needed hierarchy), or undefined when one is missing or not writable. */
function cgroupV1(name: string, l: BuildLimits): BuildCgroup | undefined {
  const ms = mounts().filter((m) => m.version === 1);
  const own = ownCgroups();
  const made: string[] = [];
  const fail = () => {
    for (const d of made) rmdirSync(d);
    return undefined;
  };
  const create = (controller: string): string | undefined => {
    const m = ms.find((x) => x.options.includes(controller));
    const path = own.get(controller);
    if (!m || path === undefined) return undefined;
    const dir = join(m.path, path, 'tix-builds', name);
    try {
      mkdirSync(dir, { recursive: true });
    } catch {
      return undefined;
    }
    made.push(dir);
    return dir;
  };
  let oomFile: string | undefined;
  if ((l.memoryMax ?? 0) > 0) {
    const dir = create('memory');
    if (!dir || !tryWrite(join(dir, 'memory.limit_in_bytes'), String(l.memoryMax))) return fail();
    // No swapping around the limit where the kernel accounts swap (memsw >= limit_in_bytes).
    if (existsSync(join(dir, 'memory.memsw.limit_in_bytes')))
      tryWrite(join(dir, 'memory.memsw.limit_in_bytes'), String(l.memoryMax));
    oomFile = join(dir, 'memory.oom_control');
  }
  if ((l.pidsMax ?? 0) > 0) {
    const dir = create('pids');
    if (!dir || !tryWrite(join(dir, 'pids.max'), String(l.pidsMax))) return fail();
  }
  return makeCgroup(1, made, oomFile);
}

/** A per-build cgroup enforcing `limits`, or undefined when no writable cgroup exists (use rlimitShell). */
export function createBuildCgroup(limits: BuildLimits): BuildCgroup | undefined {
  if (!hasLimits(limits)) return undefined;
  const name = `tix-build-${process.pid}-${counter++}`;
  return cgroupV2(name, limits) ?? cgroupV1(name, limits);
}

/** The fallback: `ulimit` commands for the builder's shell. */
export function rlimitShell(limits: BuildLimits): string {
  let s = '';
  if ((limits.memoryMax ?? 0) > 0)
    s += `ulimit -v ${Math.max(1, Math.floor(limits.memoryMax! / 1024))} || exit 126; `;
  if ((limits.pidsMax ?? 0) > 0) s += `ulimit -p ${limits.pidsMax} || exit 126; `;
  return s;
}

/** "64 MiB" style, for messages. */
export function formatBytes(n: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  }
  return `${n} bytes`;
}
