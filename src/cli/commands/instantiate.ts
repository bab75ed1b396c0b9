// `tix instantiate`: nix-instantiate. Evaluates to derivations, writes their .drv files and prints
// the .drv paths (with "!output" for outputs other than "out").
import type { Command } from '../command.js';
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
    return runEvaluation(req, evalIOSpec(ctx), {
      stdout: (d) => ctx.out.write(Buffer.from(d, 'latin1')),
      stderr: (d) => ctx.err.write(Buffer.from(d, 'latin1')),
    });
  },
};
