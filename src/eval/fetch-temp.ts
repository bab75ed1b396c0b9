// Temporary directories for fetched trees (an unpacked tarball, a git or hg checkout). They are
// removed when the process exits, not when the fetch returns: an EvalIO may read the tree after
// addToStore (RemoteStoreEvalIO sends it to the daemon when the evaluation is over; MemoryEvalIO
// reads a store path's contents from where it was added).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';

const dirs = new Set<string>();

function removeAll(): void {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

export function fetchTempDir(prefix: string): string {
  if (dirs.size === 0) process.once('exit', removeAll);
  const d = fs.mkdtempSync(nodePath.join(os.tmpdir(), prefix));
  dirs.add(d);
  return d;
}
