// `tix instantiate`: nix-instantiate. Evaluates to derivations, writes their .drv files (and the
// sources they need) into the store and prints the .drv paths (with "!output" for outputs other
// than "out"). With --eval it evaluates like `tix eval`.
import { storeIOSpec } from '../../glue/instantiate.js';
import { LocalStore } from '../../store/local.js';
import type { Command } from '../command.js';
import { withStore } from '../open-store.js';
import { buildRequest, evalIOSpec, readStdinArgs } from './eval-common.js';

export const instantiateCommand: Command = {
  name: ['instantiate'],
  summary: 'instantiate store derivations from a Nix expression (nix-instantiate)',
  async run(argv, ctx) {
    const req = await readStdinArgs(
      buildRequest(argv, ctx, argv.includes('--eval') ? 'eval' : 'instantiate'),
      ctx,
    );
    // Loaded on use: the evaluator is not needed by other commands.
    const { runEvaluation } = await import('../../eval/run.js');
    const out = {
      stdout: (d: string) => ctx.out.write(Buffer.from(d, 'latin1')),
      stderr: (d: string) => ctx.err.write(Buffer.from(d, 'latin1')),
    };
    if (req.mode === 'eval') return runEvaluation(req, evalIOSpec(ctx), out);
    // Derivations go into the real store when it is a local one.
    return withStore(ctx, (store) =>
      runEvaluation(req, store instanceof LocalStore ? storeIOSpec(store.uri) : evalIOSpec(ctx), out),
    );
  },
};
