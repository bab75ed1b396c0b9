// Signing keys in Nix's format: `tix key generate NAME` prints a new secret key (like
// `nix key generate-secret --key-name NAME`; `--secret-file`/`--public-file` write both halves as
// `nix-store --generate-binary-cache-key` does), `tix key public` turns a secret key on stdin into
// its public key (like `nix key convert-secret-to-public`). No trailing newline, as Nix writes.
import { chmodSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FormatError } from '../../formats/errors.js';
import {
  generateSecretKey,
  parseSecretKey,
  printPublicKey,
  printSecretKey,
  toPublicKey,
} from '../../formats/signing.js';
import { flagValue, parseArgs } from '../args.js';
import { CliError } from '../cli-error.js';
import { type Command, UsageError } from '../command.js';

export const keyGenerate: Command = {
  name: ['key', 'generate'],
  summary: 'generate an Ed25519 secret key for signing store paths (like nix key generate-secret)',
  async run(argv, ctx) {
    const args = parseArgs(argv, { '--secret-file': { arity: 1 }, '--public-file': { arity: 1 } });
    if (args.positional.length !== 1) throw new UsageError("'tix key generate' takes exactly one key name");
    const name = args.positional[0]!;
    if (name === '' || name.includes(':'))
      throw new UsageError(`invalid key name '${name}': it must be non-empty and contain no ':'`);
    const sk = generateSecretKey(name);
    const secretFile = flagValue(args, '--secret-file');
    const publicFile = flagValue(args, '--public-file');
    if (secretFile !== undefined) {
      const f = resolve(ctx.cwd, secretFile);
      writeFileSync(f, printSecretKey(sk), { mode: 0o600 });
      chmodSync(f, 0o600);
    } else ctx.out.write(printSecretKey(sk));
    if (publicFile !== undefined)
      writeFileSync(resolve(ctx.cwd, publicFile), printPublicKey(toPublicKey(sk)));
    return 0;
  },
};

export const keyPublic: Command = {
  name: ['key', 'public'],
  summary: 'print the public key of the secret key on stdin (like nix key convert-secret-to-public)',
  async run(argv, ctx) {
    if (parseArgs(argv, {}).positional.length !== 0)
      throw new UsageError("'tix key public' takes no arguments");
    const parts: Buffer[] = [];
    for await (const c of ctx.stdin()) parts.push(Buffer.from(c));
    try {
      ctx.out.write(printPublicKey(toPublicKey(parseSecretKey(Buffer.concat(parts).toString()))));
    } catch (e) {
      if (e instanceof FormatError)
        throw new CliError('BAD_INPUT', `cannot read the secret key on standard input: ${e.message}`, {
          cause: e,
        });
      throw e;
    }
    return 0;
  },
};
