// Shared helpers for benchmarks: time shell commands (median of several runs) and print
// tix-vs-Nix ratios in one format that bench/README.md quotes.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const repoRoot = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const tixBin = join(repoRoot, 'bin', 'tix');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(process.env.TIX_BENCH_TMP ?? tmpdir(), `tix-bench-${prefix}-`));
}

/** Runs `bash -c script` and returns wall seconds; throws with its stderr when it fails. */
export function timeShell(script: string, env: NodeJS.ProcessEnv = process.env): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', script], { env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
  const t1 = process.hrtime.bigint();
  if (r.status !== 0) {
    throw new Error(`benchmark step failed (${r.status}): ${script}\n${r.stderr.toString().slice(-2000)}`);
  }
  return Number(t1 - t0) / 1e9;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Times `setup(); run()` `runs` times and returns the median of run() only. */
export function measure(runs: number, run: () => number, setup: () => void = () => {}): number {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    setup();
    xs.push(run());
  }
  return median(xs);
}

/**
 * Medians of `a` and `b` over `runs` rounds run alternately (a, b, a, b, …), so that a change in
 * the machine's load during the benchmark weighs on both sides alike.
 */
export function measurePair(runs: number, a: () => number, b: () => number): [number, number] {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < runs; i++) {
    xs.push(a());
    ys.push(b());
  }
  return [median(xs), median(ys)];
}

export function report(name: string, tix: number, nix: number, goal: string): void {
  const ratio = tix / nix;
  console.log(
    `${name}: tix ${tix.toFixed(3)} s, nix ${nix.toFixed(3)} s, ratio ${ratio.toFixed(2)}x (goal ${goal})`,
  );
}

export function nixVersion(): string {
  return execFileSync('nix-store', ['--version']).toString().trim();
}
