// Nix's summary after deleting store paths, and its size syntax for `--max-freed`.
import { UsageError } from './command.js';

/** "N store paths deleted, X.XX MiB freed" (Nix's PrintFreed). */
export function printFreed(paths: number, bytesFreed: number): string {
  return `${paths} store paths deleted, ${(bytesFreed / (1024 * 1024)).toFixed(2)} MiB freed\n`;
}

/** A byte count with an optional K/M/G/T suffix (powers of 1024), as Nix's getIntArg allows. */
export function parseByteCount(flag: string, s: string): number {
  const m = /^(-?[0-9]+)([KMGT]?)$/.exec(s);
  if (!m) throw new UsageError(`flag '${flag}' requires an integer argument, not '${s}'`);
  const power = ' KMGT'.indexOf(m[2] || ' ');
  return Math.max(0, Number(m[1]) * 1024 ** power);
}
