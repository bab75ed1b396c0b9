// Options tix gives ssh where the user's own configuration leaves OpenSSH's defaults, read from
// `ssh -G` (ssh's resolved configuration for the destination, with ~/.ssh/config, the system
// config, $NIX_SSHOPTS and our own options applied), so a value the user chose is never overridden:
// - Keepalive: `ServerAliveInterval 15`, `ServerAliveCountMax 4`. Otherwise a builder that stops
//   answering without closing the connection (powered off, network cut, frozen) holds its builds
//   for 15 minutes (BatchMode's own 300 s x 3) or, without BatchMode (Nix 2.8 passes none), for
//   TCP's keepalive of over two hours; with it ssh gives up after a minute and the builds fail over.
// - Cipher order: AES-GCM first where the CPU has AES instructions. OpenSSH puts
//   chacha20-poly1305 first, which costs ~1.5x the CPU per byte here; copies are CPU-bound on a
//   small machine (ssh, sshd and both stores share the cores). Every default cipher stays on the
//   list, so a server without AES-GCM negotiates as before.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const KEEPALIVE_INTERVAL = 15;
export const KEEPALIVE_COUNT = 4;

/** `ssh -G` output as a map of lower-case keyword to value (the first value of repeated ones). */
export function parseSshG(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const key = line.slice(0, sp).toLowerCase();
    if (!m.has(key)) m.set(key, line.slice(sp + 1).trim());
  }
  return m;
}

/**
 * The options to add, given the resolved configuration for the destination, OpenSSH's own
 * defaults (`ssh -G -F none`) and whether the CPU has AES instructions. A value equal to OpenSSH's
 * default counts as unset.
 */
export function sshDefaultOptions(
  resolved: Map<string, string>,
  builtin: Map<string, string>,
  cpuHasAes: boolean,
): string[] {
  const opts: string[] = [];
  if (resolved.get('serveraliveinterval') === builtin.get('serveraliveinterval')) {
    opts.push('-o', `ServerAliveInterval=${KEEPALIVE_INTERVAL}`);
    if (resolved.get('serveralivecountmax') === builtin.get('serveralivecountmax')) {
      opts.push('-o', `ServerAliveCountMax=${KEEPALIVE_COUNT}`);
    }
  }
  const ciphers = resolved.get('ciphers');
  if (cpuHasAes && ciphers !== undefined && ciphers === builtin.get('ciphers')) {
    const list = ciphers.split(',');
    const gcm = list.filter((c) => /^aes(128|256)-gcm@openssh\.com$/.test(c));
    if (gcm.length > 0 && list[0] !== gcm[0]) {
      opts.push('-o', `Ciphers=${[...gcm, ...list.filter((c) => !gcm.includes(c))].join(',')}`);
    }
  }
  return opts;
}

/** Whether /proc/cpuinfo lists AES and carry-less multiply (what makes AES-GCM fast). */
export function cpuHasAes(cpuinfo: string): boolean {
  const flags = /^(?:flags|Features)\s*:(.*)$/m.exec(cpuinfo)?.[1]?.split(/\s+/) ?? [];
  return flags.includes('aes') && (flags.includes('pclmulqdq') || flags.includes('pmull'));
}

let aes: boolean | undefined;
function hostHasAes(): boolean {
  if (aes === undefined) {
    try {
      aes = cpuHasAes(readFileSync('/proc/cpuinfo', 'utf8'));
    } catch {
      aes = false;
    }
  }
  return aes;
}

function sshG(args: string[], env: NodeJS.ProcessEnv | undefined): Promise<Map<string, string>> {
  return new Promise((resolve) => {
    execFile('ssh', ['-G', ...args], { env: env ?? process.env, timeout: 10_000 }, (err, stdout) =>
      // A configuration ssh cannot read is reported by the connection itself: add nothing here.
      resolve(err ? new Map() : parseSshG(stdout)),
    );
  });
}

const builtinConfigs = new Map<string, Promise<Map<string, string>>>();

/**
 * The options to add to `ssh ARGS -- DESTINATION` (ARGS: the connection's options, including
 * $NIX_SSHOPTS), as `sshDefaultOptions` decides from `ssh -G`. OpenSSH's defaults are read with
 * the same BatchMode, which has defaults of its own (a 300 s keepalive). Empty when ssh cannot say.
 */
export async function sshDefaults(
  args: string[],
  destination: string,
  env?: NodeJS.ProcessEnv,
): Promise<string[]> {
  const builtinFor = (batch: string) => {
    let builtin = builtinConfigs.get(batch);
    if (!builtin) {
      builtin = sshG(['-F', 'none', '-o', `BatchMode=${batch}`, '--', 'tix-defaults'], env);
      builtinConfigs.set(batch, builtin);
    }
    return builtin;
  };
  // Both `ssh -G` run at once, the defaults' for the BatchMode the arguments give (tix's own
  // connections give one); the user's configuration may still say otherwise.
  const given = /^batchmode=(yes|no)$/i.exec(args.find((a) => /^batchmode=/i.test(a)) ?? '')?.[1];
  if (given) void builtinFor(given.toLowerCase());
  const resolved = await sshG([...args, '--', destination], env);
  const defaults = await builtinFor(resolved.get('batchmode') ?? 'no');
  if (resolved.size === 0 || defaults.size === 0) return [];
  return sshDefaultOptions(resolved, defaults, hostHasAes());
}
