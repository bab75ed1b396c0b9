// SetOptions (19): the client's build settings for the rest of its connection. The fixed fields
// apply to every client; `name = value` overrides only for trusted clients, except the few Nix
// 2.8 lets anybody set (timeout, repeat, connect-timeout, builders = "", listed substituters).
import { WorkerOp } from '../store/worker-protocol.js';
import type { ClientSettings, WorkerConn } from './worker-context.js';

const ANYBODY = new Set(['timeout', 'repeat', 'connect-timeout']);

/** Applies `overrides` to `s` as Nix's ClientSettings::apply does; returns warnings for the client. */
export function applyOverrides(
  s: ClientSettings,
  overrides: [string, string][],
  opts: { trusted: boolean; daemonSetting: (name: string) => string | undefined },
): string[] {
  const warnings: string[] = [];
  const words = (v: string | undefined) => (v ?? '').split(/\s+/).filter((w) => w !== '');
  for (const [name, value] of overrides) {
    if (name === 'ssh-auth-sock' || name === 'experimental-features') continue;
    if (opts.trusted || ANYBODY.has(name) || (name === 'builders' && value === '')) {
      s.overrides.set(name, value);
      continue;
    }
    if (name === 'substituters' || name === 'binary-caches') {
      const allowed = new Set([
        ...words(opts.daemonSetting('trusted-substituters')),
        ...words(opts.daemonSetting('substituters')),
      ]);
      const subs: string[] = [];
      for (const sub of words(value)) {
        if (allowed.has(sub)) subs.push(sub);
        else if (!sub.endsWith('/') && allowed.has(`${sub}/`)) subs.push(`${sub}/`);
        else warnings.push(`ignoring untrusted substituter '${sub}'`);
      }
      s.overrides.set('substituters', subs.join(' '));
      continue;
    }
    warnings.push(
      `ignoring the client-specified setting '${name}', because it is a restricted setting and you are not a trusted user`,
    );
  }
  return warnings;
}

export async function setOptions(c: WorkerConn): Promise<void> {
  const s = c.settings;
  s.keepFailed = await c.inp.bool();
  s.keepGoing = await c.inp.bool();
  s.tryFallback = await c.inp.bool();
  s.verbosity = await c.inp.u32();
  s.maxBuildJobs = await c.inp.u32();
  s.maxSilentTime = await c.inp.u64();
  await c.inp.u64(); // obsolete useBuildHook
  s.verboseBuild = (await c.inp.u64()) === 0; // lvlError = verbose builds
  await c.inp.u64(); // obsolete logType
  await c.inp.u64(); // obsolete printBuildTrace
  s.buildCores = await c.inp.u32();
  s.useSubstitutes = await c.inp.bool();
  const overrides: [string, string][] = [];
  if (c.minor >= 12) {
    const n = await c.inp.u32();
    for (let i = 0; i < n; i++) overrides.push([await c.inp.string(4096), await c.inp.string()]);
  }
  c.logger.startWork();
  c.logger.verbosity = s.verbosity;
  for (const w of applyOverrides(s, overrides, { trusted: c.trusted, daemonSetting: c.daemonSettings }))
    c.logger.warn(w);
  c.logger.stopWork();
}

export const optionOps = { [WorkerOp.SetOptions]: setOptions };
