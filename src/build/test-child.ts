// A separate process for the concurrency and crash tests: builds one derivation in the tix store
// at argv[2] and prints its BuildResult status. Not used outside tests.
import { LocalStore } from '../store/local.js';
import { buildPaths } from './goals.js';

const [root, drvPath] = process.argv.slice(2) as [string, string];
const store = new LocalStore({ root, fsync: process.env.TIX_TEST_FSYNC === '1' });
try {
  // Build dirs of killed builds stay behind (as with Nix); keep them inside the test's directory.
  const res = await buildPaths(store, [{ kind: 'built', drvPath, outputs: ['*'] }], {
    local: { buildDir: `${root}/build-tmp` },
  });
  process.stdout.write(`${JSON.stringify({ status: res.results.get(drvPath)!.status })}\n`);
} catch (e) {
  process.stdout.write(`${JSON.stringify({ error: (e as Error).message })}\n`);
  process.exitCode = 1;
} finally {
  await store.close();
}
