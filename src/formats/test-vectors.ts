// Test-only helper: locates the shared conformance vectors (../shared/vectors from the checkout,
// or $TIX_VECTORS) from both src/ (tsx) and dist/ (compiled) test runs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { derivationName } from './derivation.js';

function findVectors(): string {
  const env = process.env.TIX_VECTORS;
  if (env) return env;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    for (const c of [join(dir, 'shared', 'vectors'), join(dir, 'vectors')]) {
      if (existsSync(join(c, 'README.md')) && existsSync(join(c, 'derivation'))) return c;
    }
    const up = dirname(dir);
    if (up === dir)
      throw new Error('conformance vectors not found: set TIX_VECTORS to the shared/vectors folder');
    dir = up;
  }
}

export const VECTORS = findVectors();

export function vectorPath(rel: string): string {
  return join(VECTORS, rel);
}

export function readVector(rel: string): Buffer {
  return readFileSync(vectorPath(rel));
}

export function readVectorText(rel: string): string {
  return readFileSync(vectorPath(rel), 'utf8');
}

/** Every plain `Derive(…)` file in the vectors that must round-trip byte-exactly, with its name. */
export function roundTripDrvVectors(): { file: string; name: string }[] {
  const out: { file: string; name: string }[] = [];
  const named = (dir: string) => {
    for (const f of readdirSync(vectorPath(dir)).filter((f) => f.endsWith('.drv'))) {
      out.push({ file: `${dir}/${f}`, name: derivationName(`/nix/store/${f}`) });
    }
  };
  named('worked/drv');
  named('captures-nix-2.8/derivations');
  const stem = (dir: string, files: string[]) => {
    for (const f of files) out.push({ file: `${dir}/${f}`, name: f.replace(/\.drv$/, '') });
  };
  stem('derivation', ['simple-derivation.drv', 'bad-ca-fixed-path.drv']);
  stem('derivation/fuzz-seeds', ['hello.drv', 'hello-not-structured.drv']);
  const hm = readdirSync(vectorPath('derivation/hash-modulo')).filter(
    (f) => f.endsWith('.drv') && !f.includes('-modulo'),
  );
  for (const f of hm)
    out.push({
      file: `derivation/hash-modulo/${f}`,
      name: f.startsWith('source') ? 'source' : f.split('-')[0]!,
    });
  for (const dir of ['derivation/ia', 'derivation/ca']) {
    for (const f of readdirSync(vectorPath(dir)).filter((f) => f.endsWith('.drv'))) {
      out.push({ file: `${dir}/${f}`, name: f.replace(/\.drv$/, '') });
    }
  }
  return out;
}
