// The x86-64 micro-architecture levels this CPU reaches ("x86_64-v1" … "x86_64-v4"), which Nix adds
// to the default extra-platforms as "<level>-linux". Read from the flags in /proc/cpuinfo, using
// the feature lists of the x86-64 psABI.
import { readFileSync } from 'node:fs';

const LEVELS: [string, string[]][] = [
  ['x86_64-v1', ['cmov', 'cx8', 'fpu', 'fxsr', 'mmx', 'sse', 'sse2']],
  ['x86_64-v2', ['cx16', 'lahf_lm', 'popcnt', 'pni', 'sse4_1', 'sse4_2', 'ssse3']],
  ['x86_64-v3', ['avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'xsave']],
  ['x86_64-v4', ['avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl']],
];

/** Levels reached by a CPU with these /proc/cpuinfo flags; each level requires all lower ones. */
export function x86Levels(flags: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const [level, needs] of LEVELS) {
    if (!needs.every((f) => flags.has(f))) break;
    out.push(level);
  }
  return out;
}

/** Levels of this machine's CPU; empty when not on x86-64 Linux or /proc/cpuinfo is unreadable. */
export function hostX86Levels(arch: string = process.arch): string[] {
  if (arch !== 'x64') return [];
  let text: string;
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return [];
  }
  const line = text.split('\n').find((l) => l.startsWith('flags'));
  if (!line) return [];
  return x86Levels(
    new Set(
      line
        .slice(line.indexOf(':') + 1)
        .trim()
        .split(/\s+/),
    ),
  );
}
