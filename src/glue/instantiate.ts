// From Nix expressions to derivations in a real store: runs the evaluator (instantiate mode) with
// the store-backed EvalIO, so the `.drv` files and sources land in `store`, and returns what to
// build, as nix-build does before building.
import type { EvalRequest } from '../eval/session.js';
import type { DerivedPath } from '../store/store.js';

export interface InstantiateResult {
  paths: DerivedPath[];
  /** Exit code of the evaluation (non-zero: its error is already on `stderr`). */
  code: number;
}

/** Where the evaluation worker finds the store-backed EvalIO. */
export function storeIOSpec(storeUri: string): { module: string; options: { storeUri: string } } {
  return { module: new URL('./store-io.js', import.meta.url).href, options: { storeUri } };
}

export async function instantiate(
  req: EvalRequest,
  storeUri: string,
  stderr: (bytes: string) => void,
): Promise<InstantiateResult> {
  const { runEvaluation } = await import('../eval/run.js');
  let text = '';
  const code = await runEvaluation({ ...req, mode: 'instantiate' }, storeIOSpec(storeUri), {
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
