// Bundles the executables into dist/bin/ with esbuild so that starting bin/tix, bin/tix-store or
// bin/tix-daemon loads a handful of files instead of ~150 small modules (tsc's dist/src/ stays
// for the tests). Code splitting keeps one module instance per source file across the entry
// points, which matters for the two modules loaded by URL at run time:
// - src/glue/store-io.ts is imported by its URL (`new URL('./store-io.js', import.meta.url)`) from
//   the evaluator, so it is an entry point of its own beside the chunk that names it;
// - src/eval/worker.ts starts a worker thread on its own module URL; as a chunk in the same
//   directory it still runs its worker half when loaded that way.
// dist/bin/ is two levels below the checkout like dist/src/… files are not, which is what
// src/server/peercred.ts's `../../native` expects. npm packages (better-sqlite3, fs-ext) stay
// external and load from node_modules; better-sqlite3 (CommonJS) through createRequire, which
// spares Node's scan of its source for named exports on every start.

import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** `import X from 'pkg'` of a CommonJS package becomes `createRequire(import.meta.url)('pkg')`. */
const requireCjs = (names) => ({
  name: 'require-cjs',
  setup(b) {
    const filter = new RegExp(`^(${names.join('|')})$`);
    b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'require-cjs' }));
    b.onLoad({ filter: /.*/, namespace: 'require-cjs' }, (args) => ({
      contents: `import { createRequire } from 'node:module';\nexport default createRequire(import.meta.url)(${JSON.stringify(args.path)});\n`,
      loader: 'js',
    }));
  },
});

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bin`;

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: {
    tix: 'src/cli/tix.ts',
    'tix-store': 'src/cli/tix-store.ts',
    'tix-daemon': 'src/cli/tix-daemon.ts',
    'store-io': 'src/glue/store-io.ts',
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: 'chunk-[hash]',
  // Error classes and Nix nouns show up in messages through constructor names.
  keepNames: true,
  sourcemap: 'linked',
  logLevel: 'warning',
  metafile: true,
  plugins: [requireCjs(['better-sqlite3'])],
});
const files = Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js'));
console.log(`bundle: ${files.length} files in dist/bin`);
