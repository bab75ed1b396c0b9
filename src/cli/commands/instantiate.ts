// `tix instantiate`: nix-instantiate. Evaluates to derivations, writes their .drv files (and the
// sources they need) into the store and prints the .drv paths (with "!output" for outputs other
// than "out"). With --eval it evaluates like `tix eval`.

import type { Settings } from '../../config/settings.js';
import type { EvalRequest, SessionOutput } from '../../eval/session.js';
import { flagSet, type ParsedArgs, parseArgs } from '../args.js';
import { cliSettings } from '../cli-settings.js';
import type { Command, CommandContext } from '../command.js';
import { EVAL_FLAGS, evalIOSpec, instantiateRequest, readStdinArgs } from './eval-common.js';

/** --parse and --find-file evaluate nothing into the store, so they run as --eval does (read-only). */
function evalOnly(p: ParsedArgs): boolean {
  return flagSet(p, '--eval') || flagSet(p, '--parse') || flagSet(p, '--find-file');
}

export const instantiateCommand: Command = {
  name: ['instantiate'],
  summary: 'instantiate store derivations from a Nix expression (nix-instantiate)',
  async run(argv, ctx) {
    const p = parseArgs(argv, EVAL_FLAGS);
    const settings = cliSettings(ctx);
    const req = await readStdinArgs(
      instantiateRequest(p, ctx, evalOnly(p) ? 'eval' : 'instantiate', settings),
      ctx,
    );
    return runRequest(req, ctx, settings, {
      stdout: (d: string) => ctx.out.write(Buffer.from(d, 'latin1')),
      stderr: (d: string) => ctx.err.write(Buffer.from(d, 'latin1')),
    });
  },
};

/**
 * Runs an evaluation request. Read-only evaluation only computes store paths and needs no store
 * database; instantiation (and --eval --read-write-mode) writes into the real store when it is a
 * local one.
 */
export async function runRequest(
  req: EvalRequest,
  ctx: CommandContext,
  settings: Settings,
  out: SessionOutput,
): Promise<number> {
  // Loaded on use: the evaluator and the store are not needed by other commands.
  const { runEvaluation } = await import('../../eval/run.js');
  if (req.mode === 'eval' && req.readWrite !== true) return runEvaluation(req, evalIOSpec(ctx), out);
  const [{ ioSpecFor }, { resolveCliStoreUri, withStore }] = await Promise.all([
    import('../../glue/instantiate.js'),
    import('../open-store.js'),
  ]);
  return withStore(
    ctx,
    (store) =>
      runEvaluation(req, ioSpecFor(store, resolveCliStoreUri(ctx, settings), settings, ctx.env), out),
    settings,
  );
}
