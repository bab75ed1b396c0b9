// `tix derivation add` reads one derivation on stdin, as ATerm (`Derive(…)`, name taken from its
// `name` env entry, `--name`, or the name of its `out` path) or as 2.8 `nix show-derivation` JSON, checks that its inputs are valid and
// its stated output paths are right, adds it as a text path and prints the `.drv` path.

import { type Derivation, parseDerivation, printDerivation } from '../../formats/derivation.js';
import { checkDerivationOutputs, derivationPath, makeInputHasher } from '../../formats/derivation-hash.js';
import { derivationFromJson } from '../../formats/derivation-json.js';
import { isFormatError } from '../../formats/errors.js';
import { collectBytes } from '../../formats/nar.js';
import { StoreError } from '../../store/errors.js';
import type { Store } from '../../store/store.js';
import { flagValue, parseArgs } from '../args.js';
import { CliError } from '../cli-error.js';
import { type Command, UsageError } from '../command.js';
import { withStore } from '../open-store.js';
import { readStoreDerivation } from '../store-paths.js';

const WHERE = '<stdin>';

/** Parses ATerm or JSON text into a Derivation whose paths are all well-formed. */
export function parseDerivationInput(
  text: string,
  storeDir: string,
  opts: { name?: string } = {},
): Derivation {
  const trimmed = text.trimStart();
  let drv: Derivation;
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new CliError('BAD_INPUT', `cannot parse derivation JSON from ${WHERE}: ${(e as Error).message}`);
    }
    const fromJson = derivationFromJson(json, { name: opts.name });
    // Re-read the printed ATerm so every path and field gets the ATerm parser's checks.
    drv = parseDerivation(printDerivation(fromJson), { name: fromJson.name, path: WHERE, storeDir });
  } else {
    drv = parseDerivation(text, { name: '', path: WHERE, storeDir });
    const name = opts.name ?? drv.env.get('name') ?? nameFromOutputs(drv, storeDir);
    if (!name) {
      throw new CliError(
        'BAD_INPUT',
        `cannot add derivation from ${WHERE}: its name is unknown (no 'name' environment entry); pass --name`,
      );
    }
    drv.name = name;
  }
  return drv;
}

/** The name an input-addressed or fixed `out` output path implies ("<hash>-<name>"). */
function nameFromOutputs(drv: Derivation, storeDir: string): string | undefined {
  const out = drv.outputs.get('out')?.path;
  if (!out?.startsWith(`${storeDir}/`)) return undefined;
  return out.slice(storeDir.length + 34) || undefined;
}

/** Loads every input derivation (recursively) so output paths can be checked synchronously. */
async function loadInputs(store: Store, drv: Derivation): Promise<Map<string, Derivation>> {
  const loaded = new Map<string, Derivation>();
  const todo = [...drv.inputDrvs.keys()];
  while (todo.length > 0) {
    const p = todo.pop()!;
    if (loaded.has(p)) continue;
    if (!(await store.isValidPath(p))) {
      throw new StoreError('INVALID_PATH', `cannot add derivation: input derivation '${p}' is not valid`);
    }
    const d = await readStoreDerivation(store, p);
    loaded.set(p, d);
    todo.push(...d.inputDrvs.keys());
  }
  return loaded;
}

export async function addDerivation(store: Store, drv: Derivation): Promise<string> {
  for (const src of drv.inputSrcs) {
    if (!(await store.isValidPath(src))) {
      throw new StoreError('INVALID_PATH', `cannot add derivation: input source '${src}' is not valid`);
    }
  }
  const inputs = await loadInputs(store, drv);
  const path = derivationPath(drv, store.storeDir);
  checkDerivationOutputs(drv, {
    inputHash: makeInputHasher((p) => inputs.get(p)!, { storeDir: store.storeDir }),
    storeDir: store.storeDir,
    drvPath: path,
  });
  const refs = [...drv.inputSrcs, ...drv.inputDrvs.keys()];
  const added = await store.addTextToStore(`${drv.name}.drv`, printDerivation(drv), refs);
  if (added !== path) throw new Error(`derivation added as '${added}', expected '${path}'`);
  return path;
}

export const derivationAdd: Command = {
  name: ['derivation', 'add'],
  summary: 'add a derivation (ATerm or JSON) from stdin to the store and print its path',
  async run(argv, ctx) {
    const args = parseArgs(argv, { '--name': { arity: 1 } });
    if (args.positional.length > 0)
      throw new UsageError("'tix derivation add' reads the derivation from stdin");
    const bytes = await collectBytes(ctx.stdin());
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new CliError('BAD_INPUT', `cannot parse derivation from ${WHERE}: not valid UTF-8`);
    }
    return withStore(ctx, async (store) => {
      let drv: Derivation;
      try {
        drv = parseDerivationInput(text, store.storeDir, { name: flagValue(args, '--name') });
      } catch (e) {
        if (isFormatError(e) && e.code === 'BAD_DRV_JSON') {
          throw new CliError('BAD_INPUT', `${e.message} (from ${WHERE})`, { cause: e });
        }
        throw e;
      }
      ctx.out.write(`${await addDerivation(store, drv)}\n`);
      return 0;
    });
  },
};
