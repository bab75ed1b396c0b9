// `tix eval`: nix-instantiate --eval. Prints values exactly as Nix 2.8 does (plain, --strict,
// --json, --xml, --no-location).
import type { Command } from '../command.js';
import { buildRequest, readStdinArgs } from './eval-common.js';

export const evalCommand: Command = {
  name: ['eval'],
  summary: 'evaluate a Nix expression and print its value (nix-instantiate --eval)',
  async run(argv, ctx) {
    const req = await readStdinArgs(buildRequest(argv, ctx, 'eval'), ctx);
    const { runRequest } = await import('./instantiate.js');
    return runRequest(req, ctx, {
      stdout: (d) => ctx.out.write(Buffer.from(d, 'latin1')),
      stderr: (d) => ctx.err.write(Buffer.from(d, 'latin1')),
    });
  },
};
