// Benchmark (issue: the tix daemon): 10,000 QueryPathInfo calls from a Nix 2.8 client —
// `nix path-info` of 10,000 paths — against `tix daemon` and against Nix 2.8's `nix-daemon`, each
// serving a chroot store holding the same 10,000 small content-addressed paths (added through the
// daemon by `nix-store --add`). Goal: tix >= 1.0x nix-daemon's throughput. Needs root and Nix 2.8.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measurePair, nixVersion, report, tempDir, timeShell, tixBin } from './lib.js';

const PATHS = Number(process.env.TIX_BENCH_PATHS ?? 10_000);
const RUNS = Number(process.env.TIX_BENCH_RUNS ?? 7);
const dir = tempDir('daemon-qpi');
const conf = 'sandbox = false\nbuild-users-group =\nsubstituters =\nexperimental-features = nix-command\n';
for (const d of ['etc', 'tixconf', 'home', 'files']) mkdirSync(join(dir, d), { recursive: true });
writeFileSync(join(dir, 'etc', 'nix.conf'), conf);
writeFileSync(join(dir, 'tixconf', 'tix.conf'), `${conf}trusted-users = root\n`);
const clientEnv = (socket: string): NodeJS.ProcessEnv => ({
  ...process.env,
  NIX_REMOTE: `unix://${socket}`,
  NIX_CONF_DIR: join(dir, 'etc'),
  HOME: join(dir, 'home'),
  XDG_CACHE_HOME: join(dir, 'cache'),
});

async function waitFor(socket: string, p: ChildProcess): Promise<void> {
  for (let i = 0; i < 400 && !existsSync(socket); i++) {
    if (p.exitCode !== null) throw new Error(`daemon for '${socket}' exited with ${p.exitCode}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const tixSock = join(dir, 'tix.sock');
const nixSock = join(dir, 'nix.sock');
const tixDaemon = spawn(
  process.execPath,
  [tixBin, 'daemon', '--store', `local?root=${join(dir, 'tixroot')}`, '--listen', tixSock],
  {
    env: {
      ...process.env,
      TIX_CONF_DIR: join(dir, 'tixconf'),
      TIX_USER_CONF_FILES: '',
      HOME: join(dir, 'home'),
    },
    stdio: 'ignore',
  },
);
const nixDaemon = spawn('nix-daemon', [], {
  env: {
    ...process.env,
    NIX_REMOTE: `local?root=${join(dir, 'nixroot')}`,
    NIX_CONF_DIR: join(dir, 'etc'),
    NIX_DAEMON_SOCKET_PATH: nixSock,
    HOME: join(dir, 'home'),
  },
  stdio: 'ignore',
});
try {
  await Promise.all([waitFor(tixSock, tixDaemon), waitFor(nixSock, nixDaemon)]);
  for (let i = 0; i < PATHS; i++) writeFileSync(join(dir, 'files', `f${i}`), `small path ${i}\n`);
  const list = join(dir, 'paths');
  // The same content-addressed paths in both stores, added through each daemon.
  for (const socket of [tixSock, nixSock]) {
    timeShell(
      `cd ${dir}/files && ls | sed 's|^|${dir}/files/|' | xargs nix-store --add > ${list}`,
      clientEnv(socket),
    );
  }
  const qpi = (socket: string) => () =>
    timeShell(`nix path-info $(cat ${list}) | wc -l | grep -qx ${PATHS}`, clientEnv(socket));
  // The first pass finds tix's in-memory path-info cache empty (the adds cleared it); the
  // measured passes after it are served from that cache, as a long-running daemon's are.
  const tixFirst = qpi(tixSock)();
  const nixFirst = qpi(nixSock)();
  const [tix, nix] = measurePair(RUNS, qpi(tixSock), qpi(nixSock));
  console.log(
    `# ${nixVersion()}, ${new Date().toISOString().slice(0, 10)}, ${RUNS} runs alternating, median`,
  );
  report(`daemon-qpi (nix path-info of ${PATHS} paths: ${PATHS} QueryPathInfo)`, tix, nix, '<= 1.0x');
  console.log(
    `daemon-qpi throughput: tix ${Math.round(PATHS / tix)} QueryPathInfo/s, nix-daemon ${Math.round(PATHS / nix)} QueryPathInfo/s`,
  );
  console.log(
    `daemon-qpi first pass (tix cache empty): tix ${Math.round(PATHS / tixFirst)} /s, nix-daemon ${Math.round(PATHS / nixFirst)} /s, ${(nixFirst / tixFirst).toFixed(2)}x throughput (for information)`,
  );
} finally {
  tixDaemon.kill('SIGTERM');
  nixDaemon.kill('SIGTERM');
  timeShell(`rm -rf ${dir}`);
}
