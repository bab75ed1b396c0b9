import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildSync } from 'esbuild';
import { sourceMappedStack } from './stack-map.js';

test('frames of a minified bundle are mapped back to their sources, others left alone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tix-stack-map-'));
  try {
    const src = join(dir, 'boom.ts');
    writeFileSync(
      src,
      [
        'export function outer(n: number): number {',
        '  return inner(n) + 1;',
        '}',
        'function inner(n: number): number {',
        "  if (n > 0) throw new Error('boom');",
        '  return n;',
        '}',
        '',
      ].join('\n'),
    );
    const out = join(dir, 'out', 'boom.cjs');
    // As scripts/bundle.mjs builds the executables' bundle.
    buildSync({
      entryPoints: [src],
      outfile: out,
      bundle: true,
      format: 'cjs',
      platform: 'node',
      minifyWhitespace: true,
      minifySyntax: true,
      sourcemap: 'linked',
      logLevel: 'silent',
    });
    const { outer } = createRequire(import.meta.url)(out) as { outer(n: number): number };
    let stack = '';
    try {
      outer(1);
    } catch (e) {
      stack = (e as Error).stack ?? '';
    }
    assert.match(stack, /boom\.cjs:1:\d+/, 'the bundle is one line');
    const mapped = sourceMappedStack(stack);
    assert.match(mapped, /^Error: boom$/m);
    assert.ok(mapped.includes(`${src}:5:`), mapped);
    assert.ok(mapped.includes(`${src}:2:`), mapped);
    assert.doesNotMatch(mapped, /boom\.cjs:/);

    // Without a map (or for other files) the frame is kept as it was.
    const noMap = '    at f (/nowhere/x.cjs:1:20)\n    at g (node:internal/main:3:4)';
    assert.equal(sourceMappedStack(noMap), noMap);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
