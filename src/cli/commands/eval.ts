// `tix eval`: nix-instantiate --eval. Prints values exactly as Nix 2.8 does (plain, --strict,
// --json, --xml, --no-location).
import { cliSettings } from '../cli-settings.js';
import type { Command } from '../command.js';
import { buildRequest, readStdinArgs } from './eval-common.js';

export const evalCommand: Command = {
  name: ['eval'],
  summary: 'evaluate a Nix expression and print its value (nix-instantiate --eval)',
  async run(argv, ctx) {
    const settings = cliSettings(ctx);
    const req = await readStdinArgs(buildRequest(argv, ctx, 'eval', settings), ctx);
    const { runRequest } = await import('./instantiate.js');
    return runRequest(req, ctx, settings, {
      stdout: (d) => ctx.out.write(Buffer.from(d, 'latin1')),
      stderr: (d) => ctx.err.write(Buffer.from(d, 'latin1')),
    });
  },
};
