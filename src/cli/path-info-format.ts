// How Nix 2.8's `nix path-info` prints path infos: compact JSON (keys in Nix's order) or one line
// per path with optional tab-separated sizes and signatures.
import { jsonString } from '../formats/derivation-json.js';
import { parseHash, printHash } from '../formats/hash.js';
import type { ValidPathInfo } from '../store/store.js';

export interface PathInfoRow {
  path: string;
  /** undefined for a path that is not valid (JSON shows `"valid":false`). */
  info?: ValidPathInfo;
  closureSize?: number;
}

/** `nix path-info --json` (2.8): a compact array in the order given (callers sort by path). */
export function pathInfoJson(rows: PathInfoRow[]): string {
  const items = rows.map(({ path, info, closureSize }) => {
    if (!info) return `{"path":${jsonString(path)},"valid":false}`;
    const f: string[] = [
      `"path":${jsonString(info.path)}`,
      `"narHash":${jsonString(printHash(parseHash(info.narHash), 'sri'))}`,
      `"narSize":${info.narSize}`,
      `"references":[${info.references.map(jsonString).join(',')}]`,
    ];
    if (info.ca) f.push(`"ca":${jsonString(info.ca)}`);
    if (closureSize !== undefined) f.push(`"closureSize":${closureSize}`);
    if (info.deriver) f.push(`"deriver":${jsonString(info.deriver)}`);
    if (info.registrationTime) f.push(`"registrationTime":${info.registrationTime}`);
    if (info.ultimate) f.push(`"ultimate":true`);
    if (info.sigs.length > 0) f.push(`"signatures":[${info.sigs.map(jsonString).join(',')}]`);
    return `{${f.join(',')}}`;
  });
  return `[${items.join(',')}]`;
}

/** Nix's printSize: `\t%11d`, or with -h `\t%6.1f` and a unit letter (K, M, …; ' ' for bytes). */
export function formatSize(value: number, humanReadable: boolean): string {
  if (!humanReadable) return `\t${String(value).padStart(11)}`;
  const units = ' KMGTPEZY';
  let power = 0;
  let res = value;
  while (res > 1024 && power < units.length - 1) {
    power++;
    res /= 1024;
  }
  return `\t${res.toFixed(1).padStart(6)}${units[power]}`;
}

export interface PathInfoTextOptions {
  size: boolean;
  closureSize: boolean;
  sigs: boolean;
  humanReadable: boolean;
}

/** The text form: one line per path, padded to the longest path when any column follows. */
export function pathInfoText(
  rows: (PathInfoRow & { info: ValidPathInfo })[],
  opts: PathInfoTextOptions,
): string {
  const columns = opts.size || opts.closureSize || opts.sigs;
  const width = Math.max(0, ...rows.map((r) => r.path.length));
  let out = '';
  for (const { path, info, closureSize } of rows) {
    out += path;
    if (columns) out += ' '.repeat(width - path.length);
    if (opts.size) out += formatSize(info.narSize, opts.humanReadable);
    if (opts.closureSize) out += formatSize(closureSize ?? 0, opts.humanReadable);
    if (opts.sigs) {
      const ss: string[] = [];
      if (info.ultimate) ss.push('ultimate');
      if (info.ca) ss.push(`ca:${info.ca}`);
      ss.push(...info.sigs);
      out += `\t${ss.join(' ')}`;
    }
    out += '\n';
  }
  return out;
}
