// Bundles the executables into dist/bin/ with esbuild so that starting bin/tix, bin/tix-store or
// bin/tix-daemon reads one file instead of ~150 small modules (tsc's dist/src/ stays for the
// tests), and compiles it from a V8 code cache instead of parsing it:
// - dist/bin/tix.cjs: every executable, from src/cli/bundle.ts. It is CommonJS because Node 20
//   can only run a script, not an ES module, from a code cache (vm.Script's cachedData). Modules
//   reached through import() are initialised when first imported, so a command runs only the
//   top-level code of what it uses (esbuild cannot split CommonJS into files; a single file, whose
//   unused functions V8 never compiles, costs little more to read).
// - dist/bin/start.cjs: src/cli/bundle-start.ts, which bin/* use to run the bundle with a cache
//   (dist/bin/<executable>.v8cache, written at run time).
// - dist/bin/import-module.cjs: src/cli/bundle-import.ts in place of src/eval/import-module.ts,
//   kept out of the bundle (and its cache) because import() fails in code that Node 20 loaded
//   from a code cache; the bundle must hold no other import() of a module named at run time
//   (checked below). The bundle registers itself on globalThis when it loads, and
//   src/glue/store-io.ts, which src/glue/instantiate.ts names by its URL beside itself (here
//   dist/bin/store-io.js), is taken from the bundle of the thread: the evaluator and the
//   store-backed EvalIO must share their classes.
// - dist/bin/store-io.js and dist/bin/store-io-remote.js: hand out those same modules (the
//   EvalIO for a daemon's store too) to an import() by URL.
// - src/eval/worker.ts starts a worker thread on its own module URL, which in the bundle is the
//   bundle's: run as a worker's main script, the bundle starts the evaluation worker.
// dist/bin/ is two levels below the checkout like dist/src/… files are not, which is what
// src/server/peercred.ts's `../../native` expects. npm packages (better-sqlite3, fs-ext) stay
// external and load from node_modules.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bin`;
const REGISTRY = "Symbol.for('tix.bundle')";

/** Options of both builds (all CommonJS). */
const common = {
  absWorkingDir: root,
  outdir,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  charset: 'ascii',
  packages: 'external',
  // No keepNames: nothing reads a function's or class's name (error classes set `name`
  // themselves), and esbuild's __name calls for every function cost time at each start.
  keepNames: false,
  // Minified (names kept): a third less to read and hold at every start. Stack traces are mapped
  // back to the sources through the linked source map when printed (src/cli/stack-map.ts).
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  logLevel: 'warning',
  write: false,
  // CommonJS has no import.meta: the URL of the output file stands in for every module's. The
  // banner comes first in the file, so it has to keep the code strict, as ES modules are.
  define: { 'import.meta.url': '__tixModuleUrl' },
  banner: { js: "'use strict';\nvar __tixModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
};

/** Imports of src/eval/import-module.ts become require('./import-module.cjs'). */
const importModuleApart = {
  name: 'import-module-apart',
  setup(b) {
    b.onResolve({ filter: /\/import-module\.js$/ }, () => ({ path: './import-module.cjs', external: true }));
  },
};

const results = [
  await build({
    ...common,
    entryPoints: { tix: 'src/cli/bundle.ts' },
    plugins: [importModuleApart],
    footer: {
      js: [
        `globalThis[${REGISTRY}] = module.exports;`,
        "if (require.main === module && !require('node:worker_threads').isMainThread) module.exports.evalWorker();",
      ].join('\n'),
    },
  }),
  await build({
    ...common,
    entryPoints: { start: 'src/cli/bundle-start.ts', 'import-module': 'src/cli/bundle-import.ts' },
  }),
];
// A warning (e.g. an import.meta property other than url) means the bundle would run differently.
if (results.some((r) => r.warnings.length > 0)) {
  console.error('bundle: esbuild warned (above); nothing written');
  process.exit(1);
}
const files = new Map(results.flatMap((r) => r.outputFiles.map((f) => [basename(f.path), f.text])));
// esbuild writes non-ASCII characters as escapes, except in the comments it keeps. A string with a
// non-ASCII character is stored by V8 with two bytes a character (and decoded from UTF-8 at every
// start), so those become '?': one character for each UTF-16 unit keeps the source map's columns.
const bundle = files.get('tix.cjs').replace(/[^\0-\x7f]/g, '?');
files.delete('tix.cjs');
// What is left of import() in the bundle: only the text of the worker's loader for tsx (a string).
const leftover = bundle
  .split('\n')
  .filter((line) => /\bimport\(/.test(line) && !line.includes('tsx/esm/api'));
if (leftover.length > 0) {
  console.error(
    `bundle: import() in dist/bin/tix.cjs (use src/eval/import-module.ts):\n${leftover.join('\n')}`,
  );
  process.exit(1);
}
for (const [file, source, name] of [
  ['store-io.js', 'src/glue/store-io.ts', 'storeIO'],
  ['store-io-remote.js', 'src/glue/store-io-remote.ts', 'storeIORemote'],
]) {
  files.set(
    file,
    [
      `// ${source} of the bundle loaded in this thread (see scripts/bundle.mjs).`,
      "import { createRequire } from 'node:module';",
      `const bundle = globalThis[${REGISTRY}] ?? createRequire(import.meta.url)('./tix.cjs');`,
      `export const { createEvalIO } = await bundle.${name}();`,
      '',
    ].join('\n'),
  );
}
// Into an emptied directory (no cache of an older bundle stays), the bundle last: bin/* take it
// once it is there.
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
for (const [name, text] of [...files, ['tix.cjs', bundle]]) writeFileSync(`${outdir}/${name}`, text);
console.log(
  `bundle: ${[...files.keys(), 'tix.cjs'].filter((f) => !f.endsWith('.map')).join(', ')} in dist/bin`,
);
