// `tix eval`: nix-instantiate --eval. Prints values exactly as Nix 2.8 does (plain, --strict,
// --json, --xml, --no-location).
import type { Command } from '../command.js';
import { buildRequest, evalIOSpec, readStdinArgs } from './eval-common.js';

export const evalCommand: Command = {
  name: ['eval'],
  summary: 'evaluate a Nix expression and print its value (nix-instantiate --eval)',
  async run(argv, ctx) {
    const req = await readStdinArgs(buildRequest(argv, ctx, 'eval'), ctx);
    // Loaded on use: the evaluator is not needed by other commands.
    const { runEvaluation } = await import('../../eval/run.js');
    return runEvaluation(req, evalIOSpec(ctx), {
      stdout: (d) => ctx.out.write(Buffer.from(d, 'latin1')),
      stderr: (d) => ctx.err.write(Buffer.from(d, 'latin1')),
    });
  },
};
