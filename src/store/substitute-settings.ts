// SubstituteSettings from nix.conf-style settings: `substituters`, `trusted-public-keys` (plus the
// public halves of `secret-key-files`, as Nix trusts them), `require-sigs`, `substitute`,
// `http-connections` (parallel downloads), `download-attempts`.
import { readFileSync } from 'node:fs';
import { parseSecretKey, printPublicKey, toPublicKey } from '../formats/signing.js';
import { getSetting, openStore, type SettingsLike } from './open.js';
import type { SubstituteSettings } from './substitute.js';

function words(v: string | undefined): string[] {
  return (v ?? '').split(/\s+/).filter((w) => w !== '');
}

/**
 * The substitution settings in force; `substituters` is empty when `substitute = false`.
 * Unreadable secret key files are skipped (Nix warns and goes on).
 */
export function substituteSettingsFrom(
  settings: SettingsLike,
  opts: { onLog?: (line: string) => void; maxJobs?: number; env?: NodeJS.ProcessEnv } = {},
): SubstituteSettings {
  const keys = words(getSetting(settings, 'trusted-public-keys'));
  for (const file of words(getSetting(settings, 'secret-key-files'))) {
    try {
      keys.push(printPublicKey(toPublicKey(parseSecretKey(readFileSync(file, 'utf8')))));
    } catch (e) {
      opts.onLog?.(`warning: cannot use secret key file '${file}': ${(e as Error).message}`);
    }
  }
  const enabled = getSetting(settings, 'substitute') !== 'false';
  const connections = Number(getSetting(settings, 'http-connections') ?? 25);
  const attempts = Number(getSetting(settings, 'download-attempts') ?? 5);
  return {
    substituters: enabled ? words(getSetting(settings, 'substituters')) : [],
    trustedPublicKeys: keys,
    requireSigs: getSetting(settings, 'require-sigs') !== 'false',
    maxJobs: opts.maxJobs ?? (connections > 0 ? connections : Number.POSITIVE_INFINITY),
    downloadAttempts: Number.isInteger(attempts) && attempts > 0 ? attempts : 1,
    openStore: (uri) => openStore(uri, { settings, env: opts.env }),
    onLog: opts.onLog,
  };
}
