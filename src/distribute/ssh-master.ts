// One SSH connection per destination, shared by every session this process opens to it: the first
// session starts an OpenSSH connection master (`ssh -f -N -o ControlMaster=yes`) on a control
// socket in a private directory (mode 0700, removed at exit); later and concurrent sessions run
// `ssh -o ControlMaster=no -o ControlPath=…`, which skips the key exchange and authentication.
// So a machine costs one handshake however many build slots and derivations use it. The master
// backgrounds itself once authenticated (that exit is the readiness signal) and ends when this
// process exits, or by itself after IDLE_SECONDS without sessions (also if this process was
// killed); a master that has gone away is started again on the next session. The master gets the
// keepalive and cipher defaults of ssh-defaults.ts where the user's ssh configuration sets none.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sshDefaults } from './ssh-defaults.js';

/** How long a master outlives its last session (ssh's ControlPersist). */
export const IDLE_SECONDS = 60;
/** Sessions per connection: sshd's MaxSessions defaults to 10; more slots open another master. */
export const MAX_SESSIONS = 8;

interface Master {
  controlPath: string;
  ready: Promise<void>;
  /** Set once the master accepts sessions. */
  up: boolean;
  pid?: number;
  sessions: number;
}

const masters = new Map<string, Master[]>();
let dir: string | undefined;

/** The private directory for control sockets and pinned known_hosts files. */
export function sshPrivateDir(): string {
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), 'tix-ssh-'));
    process.once('exit', stopAll);
  }
  return dir;
}

function stopAll(): void {
  for (const m of [...masters.values()].flat()) {
    if (m.pid === undefined) continue;
    try {
      process.kill(m.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  masters.clear();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}

export interface MasterSpec {
  /** Everything that makes two connections different (destination, user, port, keys, options). */
  identity: string;
  /** ssh arguments before the destination (identity file, port, pinning, $NIX_SSHOPTS…). */
  args: string[];
  destination: string;
  env?: NodeJS.ProcessEnv;
  /** Turns ssh's stderr of a failed master into the error to report. */
  explain: (stderr: string, code: number | null) => Error;
}

/**
 * A session slot on a running master for `spec`, starting one if needed (concurrent callers share
 * the start): its control socket, and `release` to call once the session is over. Rejects with
 * `spec.explain(…)` when the connection cannot be made.
 */
export async function sshMaster(spec: MasterSpec): Promise<{ controlPath: string; release: () => void }> {
  const list = masters.get(spec.identity) ?? [];
  masters.set(spec.identity, list);
  // A master that exited (idle, or its connection broke) has removed its socket.
  let master = list.find((m) => m.sessions < MAX_SESSIONS && (!m.up || existsSync(m.controlPath)));
  if (!master) {
    for (const m of list.filter((m) => m.up && m.sessions === 0)) list.splice(list.indexOf(m), 1);
    const name = createHash('sha256').update(spec.identity).digest('hex').slice(0, 12);
    const controlPath = join(sshPrivateDir(), `m-${name}-${list.length}-${Date.now() % 1e6}`);
    const m: Master = { controlPath, ready: start(spec, controlPath), up: false, sessions: 0 };
    list.push(m);
    m.ready.then(
      () => {
        m.up = true;
        void findPid(spec, controlPath).then((pid) => {
          m.pid = pid;
        });
      },
      () => {
        const i = list.indexOf(m);
        if (i >= 0) list.splice(i, 1);
      },
    );
    master = m;
  }
  const m = master;
  m.sessions++;
  try {
    await m.ready;
  } catch (e) {
    m.sessions--;
    throw e;
  }
  let released = false;
  return {
    controlPath: m.controlPath,
    release: () => {
      if (!released) m.sessions--;
      released = true;
    },
  };
}

async function start(spec: MasterSpec, controlPath: string): Promise<void> {
  const defaults = await sshDefaults(spec.args, spec.destination, spec.env);
  const errFile = `${controlPath}.err`;
  const errFd = openSync(errFile, 'w', 0o600);
  const args = [
    ...spec.args,
    ...defaults,
    '-f',
    '-N',
    '-o',
    'ControlMaster=yes',
    '-o',
    `ControlPath=${controlPath}`,
    '-o',
    `ControlPersist=${IDLE_SECONDS}`,
    '--',
    spec.destination,
  ];
  return new Promise<void>((resolve, reject) => {
    const child = spawn('ssh', args, { stdio: ['ignore', 'ignore', errFd], env: spec.env ?? process.env });
    closeSync(errFd);
    const fail = (code: number | null) => {
      const stderr = readFileSync(errFile, 'utf8');
      rmSync(errFile, { force: true });
      reject(spec.explain(stderr, code));
    };
    child.once('error', (e) => {
      rmSync(errFile, { force: true });
      reject(spec.explain(e.message, null));
    });
    child.once('exit', (code) => {
      if (code !== 0) return fail(code);
      rmSync(errFile, { force: true });
      resolve();
    });
  });
}

/** The backgrounded master's pid (`ssh -O check` prints it), so that exit can stop it. */
function findPid(spec: MasterSpec, controlPath: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile(
      'ssh',
      [...spec.args, '-o', `ControlPath=${controlPath}`, '-O', 'check', '--', spec.destination],
      { env: spec.env ?? process.env },
      (_err, stdout, stderr) => {
        const m = /pid=(\d+)/.exec(`${stdout}${stderr}`);
        resolve(m ? Number(m[1]) : undefined);
      },
    );
  });
}
