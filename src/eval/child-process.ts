// node:child_process, loaded on first use: only the fetchers run tools (tar, git, hg), and loading
// it (it brings node:net) is a noticeable part of the start-up of `tix eval`.
import type * as ChildProcess from 'node:child_process';
import { createRequire } from 'node:module';

let childProcessModule: typeof ChildProcess | undefined;

export function childProcess(): typeof ChildProcess {
  childProcessModule ??= createRequire(import.meta.url)('node:child_process') as typeof ChildProcess;
  return childProcessModule;
}
