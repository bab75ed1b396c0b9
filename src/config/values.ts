// Value syntax of each setting type, as Nix 2.8 parses it (same error wording, plus the place).
import { availableParallelism } from 'node:os';
import { ConfigError } from './errors.js';

/** The kinds of value a setting holds. Lists are whitespace-separated; `string-set` sorts and dedups. */
export type SettingType =
  | 'bool'
  | 'uint'
  | 'int'
  | 'uint64'
  | 'string'
  | 'strings'
  | 'string-set'
  | 'max-jobs'
  | 'sandbox'
  | 'features';

export type SandboxMode = boolean | 'relaxed';

/** Experimental features Nix 2.8 knows; others warn as in Nix. */
export const EXPERIMENTAL_FEATURES = [
  'ca-derivations',
  'impure-derivations',
  'flakes',
  'nix-command',
  'recursive-nix',
  'no-url-literals',
  'fetch-closure',
];

/** Whether `extra-NAME` may append to a setting of this type (Nix: lists, sets and maps). */
export function isAppendable(type: SettingType): boolean {
  return type === 'strings' || type === 'string-set' || type === 'features';
}

function invalid(name: string, value: string, where: string): ConfigError {
  return new ConfigError('BAD_SETTING', `setting '${name}' has invalid value '${value}'${where}`);
}

const UINT64_MAX = (1n << 64n) - 1n;

/**
 * Parses `value` for a setting of `type`. `where` is appended to messages (" in '/etc/tix/tix.conf:3'").
 * `warn` receives non-fatal complaints (unknown experimental features).
 */
export function parseSettingValue(
  type: SettingType,
  name: string,
  value: string,
  opts: { where: string; warn: (message: string) => void },
): unknown {
  const { where } = opts;
  switch (type) {
    case 'bool':
      if (value === 'true' || value === 'yes' || value === '1') return true;
      if (value === 'false' || value === 'no' || value === '0') return false;
      throw new ConfigError('BAD_SETTING', `Boolean setting '${name}' has invalid value '${value}'${where}`);
    case 'uint':
    case 'int': {
      const re = type === 'uint' ? /^[0-9]+$/ : /^-?[0-9]+$/;
      if (!re.test(value)) throw invalid(name, value, where);
      const n = Number(value);
      if (!Number.isSafeInteger(n)) throw invalid(name, value, where);
      return n;
    }
    case 'uint64': {
      if (!/^[0-9]+$/.test(value)) throw invalid(name, value, where);
      const n = BigInt(value);
      if (n > UINT64_MAX) throw invalid(name, value, where);
      return n;
    }
    case 'string':
      return value;
    case 'strings':
      return splitList(value);
    case 'string-set':
      return sortedSet(splitList(value));
    case 'max-jobs':
      if (value === 'auto') return availableParallelism();
      if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) {
        throw new ConfigError(
          'BAD_SETTING',
          `configuration setting '${name}' should be 'auto' or an integer${where}`,
        );
      }
      return Number(value);
    case 'sandbox':
      if (value === 'true') return true;
      if (value === 'false') return false;
      if (value === 'relaxed') return 'relaxed';
      throw new ConfigError('BAD_SETTING', `option '${name}' has invalid value '${value}'${where}`);
    case 'features': {
      const list = sortedSet(splitList(value));
      for (const f of list) {
        if (!EXPERIMENTAL_FEATURES.includes(f)) opts.warn(`unknown experimental feature '${f}'${where}`);
      }
      return list.filter((f) => EXPERIMENTAL_FEATURES.includes(f));
    }
  }
}

/** Appends a parsed list value to the current one (for `extra-NAME`). */
export function appendSettingValue(type: SettingType, current: unknown, more: unknown): unknown {
  const joined = [...(current as string[]), ...(more as string[])];
  return type === 'strings' ? joined : sortedSet(joined);
}

/** Renders a value as `tix show-config` / Nix's `nix show-config` print it (lists space-separated). */
export function printSettingValue(type: SettingType, value: unknown): string {
  if (type === 'strings' || type === 'string-set' || type === 'features')
    return (value as string[]).join(' ');
  return String(value);
}

function splitList(value: string): string[] {
  return value.split(/[ \t\r\n]+/).filter((s) => s !== '');
}

/** Byte-wise (UTF-8) sorted, deduplicated: how Nix orders a std::set<std::string>. */
export function sortedSet(items: string[]): string[] {
  return [...new Set(items)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}
