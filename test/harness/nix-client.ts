// A throw-away Nix 2.8 client environment for tests: chroot store, private NIX_CONF_DIR and HOME,
// never the machine's real /nix. Combine with harness.env() to reach harness hosts over ssh.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunResult, runProcess } from './hosts.js';

export class NixClient {
  readonly dir: string;
  readonly root: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(extraEnv: Record<string, string> = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'tix-nixclient-'));
    this.root = join(this.dir, 'root');
    mkdirSync(join(this.dir, 'etc'));
    writeFileSync(
      join(this.dir, 'etc', 'nix.conf'),
      'sandbox = false\nbuild-users-group =\nsubstituters =\nexperimental-features = nix-command\n',
    );
    this.env = {
      ...process.env,
      ...extraEnv,
      NIX_CONF_DIR: join(this.dir, 'etc'),
      NIX_REMOTE: `local?root=${this.root}`,
      HOME: this.dir,
      XDG_CACHE_HOME: join(this.dir, 'cache'),
    };
  }

  run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    return runProcess(cmd, args, { ...opts, env: this.env });
  }

  /** Adds a file with the given contents to the client's chroot store; returns its store path. */
  async addFile(name: string, contents: string | Uint8Array): Promise<string> {
    const src = join(this.dir, 'src', name);
    mkdirSync(join(this.dir, 'src'), { recursive: true });
    writeFileSync(src, contents);
    const r = await this.run('nix-store', ['--add', src]);
    if (r.code !== 0) throw new Error(`nix-store --add failed: ${r.stderr}`);
    return r.stdout.trim();
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Why tests needing root, sshd, unshare and Nix 2.8 cannot run here, or undefined if they can. */
export function multiHostSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (mount namespaces, sshd)';
  for (const p of ['/usr/sbin/sshd', '/usr/bin/ssh', '/usr/bin/unshare', '/usr/bin/nix-store']) {
    if (!existsSync(p)) return `needs ${p}`;
  }
  return undefined;
}
