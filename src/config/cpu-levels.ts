// The x86-64 micro-architecture levels this CPU reaches ("x86_64-v1" … "x86_64-v4"), which Nix adds
// to the default extra-platforms as "<level>-linux". As Nix 2.8 (computeLevels, through libcpuid),
// the CPU's features are read with the CPUID instruction (native/cpuid.c), and each level needs
// Nix 2.8's list of features, which for v3 leaves out BMI1, BMI2 and XSAVE of the psABI's. The
// libcpuid that Nix 2.8 is built with (Debian's 0.6.2) reads the AVX-512 features on Intel CPUs
// only, so only there is x86_64-v4 reached. Without the addon the flags of /proc/cpuinfo stand in;
// a kernel or hypervisor may hide some there.
import { readFileSync } from 'node:fs';
import { loadNativeAddon } from './native-addon.js';

const LEVELS: [string, string[]][] = [
  ['x86_64-v1', ['cmov', 'cx8', 'fpu', 'fxsr', 'mmx', 'sse', 'sse2']],
  ['x86_64-v2', ['cx16', 'lahf_lm', 'popcnt', 'pni', 'sse4_1', 'sse4_2', 'ssse3']],
  ['x86_64-v3', ['avx', 'avx2', 'f16c', 'fma', 'abm', 'movbe']],
  ['x86_64-v4', ['avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl']],
];

/** Levels reached by a CPU with these features (/proc/cpuinfo names); each needs all lower ones. */
export function x86Levels(flags: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const [level, needs] of LEVELS) {
    if (!needs.every((f) => flags.has(f))) break;
    out.push(level);
  }
  return out;
}

type Registers = [number, number, number, number];

/** Where CPUID reports each feature: [leaf, register (0 eax … 3 edx), bit]. */
const CPUID_BITS: Record<string, [number, number, number]> = {
  fpu: [1, 3, 0],
  cx8: [1, 3, 8],
  cmov: [1, 3, 15],
  mmx: [1, 3, 23],
  fxsr: [1, 3, 24],
  sse: [1, 3, 25],
  sse2: [1, 3, 26],
  pni: [1, 2, 0],
  ssse3: [1, 2, 9],
  fma: [1, 2, 12],
  cx16: [1, 2, 13],
  sse4_1: [1, 2, 19],
  sse4_2: [1, 2, 20],
  movbe: [1, 2, 22],
  popcnt: [1, 2, 23],
  avx: [1, 2, 28],
  f16c: [1, 2, 29],
  avx2: [7, 1, 5],
  avx512f: [7, 1, 16],
  avx512dq: [7, 1, 17],
  avx512cd: [7, 1, 28],
  avx512bw: [7, 1, 30],
  avx512vl: [7, 1, 31],
  lahf_lm: [0x80000001, 2, 0],
  abm: [0x80000001, 2, 5],
};

/** The CPU's vendor as CPUID leaf 0 spells it ("GenuineIntel", "AuthenticAMD", …). */
function vendorOf(r: Registers): string {
  const b = Buffer.alloc(12);
  b.writeUInt32LE(r[1] >>> 0, 0);
  b.writeUInt32LE(r[3] >>> 0, 4);
  b.writeUInt32LE(r[2] >>> 0, 8);
  return b.toString('latin1');
}

/** The features of the levels that `cpuid(leaf, 0)` reports, by their /proc/cpuinfo names. */
export function cpuidFlags(cpuid: (leaf: number, sub: number) => Registers): Set<string> {
  const leaves = new Map<number, Registers>();
  const flags = new Set<string>();
  const intel = vendorOf(cpuid(0, 0)) === 'GenuineIntel';
  for (const [name, [leaf, reg, bit]] of Object.entries(CPUID_BITS)) {
    if (!intel && name.startsWith('avx512')) continue;
    let r = leaves.get(leaf);
    if (r === undefined) {
      r = cpuid(leaf, 0);
      leaves.set(leaf, r);
    }
    if ((r[reg]! >>> bit) & 1) flags.add(name);
  }
  return flags;
}

function procCpuinfoFlags(): Set<string> | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const field = (name: string) => {
    const line = lines.find((l) => l.startsWith(name));
    return line?.slice(line.indexOf(':') + 1).trim();
  };
  const flags = field('flags');
  if (flags === undefined) return undefined;
  const intel = field('vendor_id') === 'GenuineIntel';
  return new Set(flags.split(/\s+/).filter((f) => intel || !f.startsWith('avx512')));
}

let hostLevels: string[] | undefined;

/** Levels of this machine's CPU; empty when not on x86-64 or its features cannot be read. */
export function hostX86Levels(arch: string = process.arch): string[] {
  if (arch !== 'x64') return [];
  if (hostLevels !== undefined) return hostLevels;
  const addon = loadNativeAddon<{ cpuid(leaf: number, sub: number): Registers }>('cpuid');
  const flags = addon ? cpuidFlags(addon.cpuid) : procCpuinfoFlags();
  hostLevels = flags ? x86Levels(flags) : [];
  return hostLevels;
}
