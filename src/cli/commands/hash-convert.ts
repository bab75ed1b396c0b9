// `tix hash to-base16|to-base32|to-base64|to-sri HASH…` = Nix 2.8's `nix hash to-*`: re-encodes
// hashes; `--type ALGO` supplies the algorithm for hashes without a prefix.
import { type HashEncoding, parseHash, parseHashAlgo, printHash } from '../../formats/hash.js';
import { flagValue, parseArgs } from '../args.js';
import type { Command } from '../command.js';

function convertCommand(word: string, enc: HashEncoding): Command {
  return {
    name: ['hash', word],
    summary: `convert hashes to ${enc === 'sri' ? 'SRI' : enc === 'nix32' ? 'base-32' : enc} (like nix hash ${word})`,
    async run(argv, ctx) {
      const args = parseArgs(argv, { '--type': { arity: 1 } });
      const type = flagValue(args, '--type');
      const algo = type === undefined ? undefined : parseHashAlgo(type);
      for (const s of args.positional) {
        const h = parseHash(s, { algo });
        ctx.out.write(`${printHash(h, enc, { prefix: enc === 'sri' })}\n`);
      }
      return 0;
    },
  };
}

export const hashToBase16 = convertCommand('to-base16', 'base16');
export const hashToBase32 = convertCommand('to-base32', 'nix32');
export const hashToBase64 = convertCommand('to-base64', 'base64');
export const hashToSri = convertCommand('to-sri', 'sri');
