// From Nix expressions to derivations in a real store: runs the evaluator (instantiate mode) with
// the store-backed EvalIO, so the `.drv` files and sources land in `store`, and returns what to
// build, as nix-build does before building.
import type { Settings } from '../config/settings.js';
import type { EvalRequest } from '../eval/session.js';
import type { EvalIOSpec } from '../eval/worker.js';
import { LocalStore } from '../store/local.js';
import type { DerivedPath, Store } from '../store/store.js';
import type { RemoteStoreEvalIOOptions } from './store-io-remote.js';

export interface InstantiateResult {
  paths: DerivedPath[];
  /** Exit code of the evaluation (non-zero: its error is already on `stderr`). */
  code: number;
}

/** Where the evaluation worker finds the store-backed EvalIO. */
export function storeIOSpec(storeUri: string): { module: string; options: { storeUri: string } } {
  return { module: new URL('./store-io.js', import.meta.url).href, options: { storeUri } };
}

/** The EvalIO for a store that is not local: what evaluation adds is added through the store's API. */
export function remoteStoreIOSpec(options: RemoteStoreEvalIOOptions): {
  module: string;
  options: RemoteStoreEvalIOOptions;
} {
  return { module: new URL('./store-io-remote.js', import.meta.url).href, options };
}

/**
 * The EvalIO spec for evaluating into `store`, opened from `uri` (as given: a store's own uri may
 * leave out parameters such as ssh-ng's remote-program); local stores are written directly.
 */
export function ioSpecFor(
  store: Store,
  uri: string,
  settings: Settings,
  env: Record<string, string | undefined>,
): { module: string; options: { storeUri: string } } {
  if (store instanceof LocalStore) return storeIOSpec(store.uri);
  return remoteStoreIOSpec({
    storeUri: uri,
    settings: Object.fromEntries(settings.entries().map((e) => [e.name, e.value])),
    env,
    storeDir: store.storeDir,
  });
}

export async function instantiate(
  req: EvalRequest,
  io: EvalIOSpec,
  stderr: (bytes: string) => void,
): Promise<InstantiateResult> {
  const { runEvaluation } = await import('../eval/run.js');
  let text = '';
  const code = await runEvaluation({ ...req, mode: 'instantiate' }, io, {
    stdout: (d) => {
      text += d;
    },
    // nix-build makes its own GC roots, so instantiate's --add-root warning does not apply.
    stderr: (d) => {
      if (!d.startsWith("warning: you did not specify '--add-root'")) stderr(d);
    },
  });
  const paths: DerivedPath[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const bang = line.indexOf('!');
    paths.push(
      bang < 0
        ? { kind: 'built', drvPath: line, outputs: ['out'] }
        : { kind: 'built', drvPath: line.slice(0, bang), outputs: [line.slice(bang + 1)] },
    );
  }
  return { paths, code };
}
