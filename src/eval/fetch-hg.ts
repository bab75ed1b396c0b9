// builtins.fetchMercurial as Nix 2.8 fetches (libfetchers/mercurial.cc), with the system's `hg`
// (HGPLAIN set, so the user's hgrc does not change its output; hg's own messages go to stderr):
// - a local repository with uncommitted changes, fetched without rev or ref: its tracked files as
//   they are in the working tree (Nix's "unclean" tree, no rev);
// - otherwise a clone kept under $XDG_CACHE_HOME/tix/hg/ (pulled again unless it already holds the
//   rev asked for), and `hg archive` of the revision, whose node, number and branch give rev,
//   revCount and branch.
// Nix 2.8 also remembers which rev a branch resolved to for an hour (tarball-ttl); tix asks hg
// each time.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { hashBytes } from '../formats/hash.js';
import { toNix32 } from '../formats/nix32.js';
import { childProcess } from './child-process.js';
import { NixEvalError } from './errors.js';
import { fetchTempDir } from './fetch-temp.js';
import type { AddToStoreOptions, FetchHgOptions, FetchHgResult, FileType } from './io.js';

/** 2.8's refRegex: what a branch or tag name given as `rev` may look like. */
const REF = /^[a-zA-Z0-9][a-zA-Z0-9_./-]*$/;
export const REV = /^[0-9a-fA-F]{40}$/;

interface HgRun {
  stdout: string;
  /** "failed with exit code N" / "killed by signal S" (Nix's statusToString), or undefined. */
  failure?: string;
}

/** Runs hg with stdout captured and stderr passed through. */
function runHg(args: string[]): HgRun {
  const r = childProcess().spawnSync('hg', args, {
    env: { ...process.env, HGPLAIN: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (r.error) {
    // As Nix 2.8's runProgram: the child says it cannot exec, then exits with 1.
    const why =
      (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : r.error.message;
    process.stderr.write(`error: executing 'hg': ${why}\n`);
    return { stdout: '', failure: 'failed with exit code 1' };
  }
  if (r.status === 0) return { stdout: r.stdout };
  return {
    stdout: r.stdout,
    failure: r.signal ? `killed by signal ${r.signal}` : `failed with exit code ${r.status}`,
  };
}

/** hg's stdout; a failure is an evaluation error worded as Nix 2.8's ("hg failed with …"). */
function hg(args: string[]): string {
  const r = runHg(args);
  if (r.failure !== undefined) throw new NixEvalError('FETCH', `hg ${r.failure}`);
  return r.stdout;
}

/** The store paths and facts of a fetchMercurial call; `addToStore` copies a tree. */
export function fetchMercurial(
  opts: FetchHgOptions,
  addToStore: (path: string, o: AddToStoreOptions) => string,
): FetchHgResult {
  const url = opts.url.includes('://') ? opts.url : `file://${opts.url}`;
  if (opts.ref !== undefined && !REF.test(opts.ref))
    throw new NixEvalError('FETCH', `invalid Mercurial branch/tag name '${opts.ref}'`);
  const scheme = url.slice(0, url.indexOf('://'));
  const isLocal = scheme === 'file';
  const withoutQuery = url.replace(/[?#].*$/s, '');
  const actualUrl = isLocal ? decodePath(withoutQuery.slice('file://'.length)) : withoutQuery;
  const rev = opts.rev?.toLowerCase();

  if (opts.ref === undefined && rev === undefined && isLocal && fs.existsSync(`${actualUrl}/.hg`)) {
    const clean = hg(['status', '-R', actualUrl, '--modified', '--added', '--removed']) === '';
    if (!clean) return uncleanTree(actualUrl, opts.name, addToStore);
  }

  const cacheDir = nodePath.join(
    process.env.XDG_CACHE_HOME || nodePath.join(os.homedir(), '.cache'),
    'tix',
    'hg',
    toNix32(hashBytes('sha256', actualUrl).digest),
  );
  const have =
    rev !== undefined &&
    fs.existsSync(cacheDir) &&
    runHg(['log', '-R', cacheDir, '-r', rev, '--template', '1']).stdout === '1';
  if (!have) {
    if (fs.existsSync(cacheDir)) {
      const pulled = runHg(['pull', '-R', cacheDir, '--', actualUrl]);
      if (pulled.failure !== undefined) {
        // An interrupted pull leaves a journal that hg wants recovered first.
        if (!fs.existsSync(`${cacheDir}/.hg/store/journal`))
          throw new NixEvalError('FETCH', `'hg pull' ${pulled.failure}`);
        hg(['recover', '-R', cacheDir]);
        hg(['pull', '-R', cacheDir, '--', actualUrl]);
      }
    } else {
      fs.mkdirSync(nodePath.dirname(cacheDir), { recursive: true });
      hg(['clone', '--noupdate', '--', actualUrl, cacheDir]);
    }
  }
  const tokens = hg([
    'log',
    '-R',
    cacheDir,
    '-r',
    rev ?? opts.ref ?? 'default',
    '--template',
    '{node} {rev} {branch}',
  ])
    .trim()
    .split(/\s+/);
  if (tokens.length !== 3 || !REV.test(tokens[0]!)) {
    throw new NixEvalError(
      'FETCH',
      `unexpected output of 'hg log' for '${actualUrl}': '${tokens.join(' ')}'`,
    );
  }
  const [node, number, branch] = tokens as [string, string, string];
  const tree = nodePath.join(fetchTempDir('tix-hg-'), 'archive');
  hg(['archive', '-R', cacheDir, '-r', node, tree]);
  fs.rmSync(nodePath.join(tree, '.hg_archival.txt'), { force: true });
  const storePath = addToStore(tree, { name: opts.name, method: 'recursive' });
  return { storePath, ref: branch, rev: node, revCount: Number(number) };
}

/** A file URL's path, percent-decoded where it is valid percent-encoding. */
function decodePath(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

/** The tracked files of an unclean working tree, as they are on disk. */
function uncleanTree(
  repo: string,
  name: string,
  addToStore: (path: string, o: AddToStoreOptions) => string,
): FetchHgResult {
  const branch = hg(['branch', '-R', repo]).replace(/\n+$/, '');
  const listed = hg(['status', '-R', repo, '--clean', '--modified', '--added', '--no-status', '--print0']);
  const files = new Set(listed.split('\0').filter((f) => f !== ''));
  // A directory is copied when some tracked file lies below it.
  const dirs = new Set<string>();
  for (const f of files)
    for (let i = f.indexOf('/'); i > 0; i = f.indexOf('/', i + 1)) dirs.add(f.slice(0, i));
  const root = nodePath.resolve(repo);
  const filter = (p: string, type: FileType): boolean => {
    const rel = p.slice(root.length + 1);
    return type === 'directory' ? dirs.has(rel) : files.has(rel);
  };
  const storePath = addToStore(root, { name, method: 'recursive', filter });
  return { storePath, ref: branch, unclean: repo };
}
