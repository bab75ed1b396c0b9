// What `tix eval` and `tix instantiate` share: nix-instantiate's flags, the search path from -I
// and NIX_PATH, and which EvalIO the evaluation worker uses.
import * as nodePath from 'node:path';
import type { Settings } from '../../config/settings.js';
import type { EvalRequest } from '../../eval/session.js';
import type { EvalIOSpec } from '../../eval/worker.js';
import { type FlagSpec, flagSet, flagValues, type ParsedArgs, parseArgs } from '../args.js';
import { type CommandContext, UsageError } from '../command.js';
import { tixSearchPathEntry } from '../install-dir.js';

/** The evaluation flags nix-build and nix-shell share with nix-instantiate. */
export const BUILD_EVAL_FLAGS: Record<string, FlagSpec> = {
  '--expr': { arity: 0, aliases: ['-E'] },
  '--attr': { arity: 1, aliases: ['-A'] },
  '--arg': { arity: 2 },
  '--argstr': { arity: 2 },
  '--include': { arity: 1, aliases: ['-I'] },
};

export const EVAL_FLAGS: Record<string, FlagSpec> = {
  ...BUILD_EVAL_FLAGS,
  '--strict': { arity: 0 },
  '--json': { arity: 0 },
  '--xml': { arity: 0 },
  '--no-location': { arity: 0 },
  '--eval': { arity: 0, aliases: ['--eval-only'] },
  '--read-write-mode': { arity: 0 },
  '--readonly-mode': { arity: 0 },
  // Accepted as nix-instantiate 2.8 accepts it; evaluation here is never restricted to pure mode.
  '--impure': { arity: 0 },
  '--parse': { arity: 0, aliases: ['--parse-only'] },
  '--find-file': { arity: 0 },
  '--add-root': { arity: 1 },
  // Roots are always indirect (a symlink plus its entry in gcroots/auto), as in Nix 2.8.
  '--indirect': { arity: 0 },
  '--dry-run': { arity: 0 },
  '--repair': { arity: 0 },
};

/** Splits NIX_PATH on ':' but keeps URLs ("x=https://…") whole. */
export function splitNixPath(s: string): string[] {
  const out: string[] = [];
  for (const part of s.split(':')) {
    const prev = out[out.length - 1];
    if (prev !== undefined && part.startsWith('//') && /(^|=)[a-z][a-z0-9+.-]*$/.test(prev))
      out[out.length - 1] = `${prev}:${part}`;
    else if (part !== '') out.push(part);
  }
  return out;
}

export function buildRequest(
  argv: string[],
  ctx: CommandContext,
  mode: EvalRequest['mode'],
  settings: Settings,
): EvalRequest {
  return instantiateRequest(parseArgs(argv, EVAL_FLAGS), ctx, mode, settings);
}

/**
 * The evaluation request for already-parsed arguments (they may hold other commands' flags too),
 * with the command's settings (the experimental features reach the evaluator).
 */
export function requestFromArgs(
  p: ParsedArgs,
  ctx: CommandContext,
  mode: EvalRequest['mode'],
  settings: Settings,
): EvalRequest {
  const fromArgs = flagSet(p, '--expr');
  const findFile = flagSet(p, '--find-file');
  const positional = p.positional.length > 0 || findFile ? p.positional : fromArgs ? [] : ['./default.nix'];
  if (fromArgs && positional.length === 0) throw new UsageError("'-E' requires an expression");
  const args: EvalRequest['args'] = [];
  for (const [name, value] of flagValues(p, '--arg')) args.push({ name: name!, kind: 'expr', value: value! });
  for (const [name, value] of flagValues(p, '--argstr'))
    args.push({ name: name!, kind: 'str', value: value! });
  const includes = flagValues(p, '--include').map((v) => v[0]!);
  return {
    mode,
    readWrite: mode === 'eval' && flagSet(p, '--read-write-mode') && !flagSet(p, '--readonly-mode'),
    exprs: positional.map((text) => ({ kind: fromArgs ? 'expr' : 'file', text })),
    attrPaths: flagValues(p, '--attr').map((v) => v[0]!),
    args,
    strict: flagSet(p, '--strict'),
    json: flagSet(p, '--json'),
    xml: flagSet(p, '--xml'),
    location: !flagSet(p, '--no-location'),
    nixPath: [...includes, ...splitNixPath(ctx.env.NIX_PATH ?? '')],
    // The bundled package set is searched last, so that -I and NIX_PATH can override <tix>; like
    // Nix's <nix/…> it is not listed in builtins.nixPath (which stays as Nix 2.8 shows it).
    extraNixPath: [tixSearchPathEntry()],
    cwd: ctx.cwd,
    env: { ...ctx.env },
    showTrace: ctx.global.showTrace,
    currentSystem: ctx.global.options.get('system'),
    experimentalFeatures: settings.get('experimental-features'),
  };
}

/** nix-instantiate's own flags, on top of requestFromArgs (nix-build gives some of them other meanings). */
export function instantiateRequest(
  p: ParsedArgs,
  ctx: CommandContext,
  mode: EvalRequest['mode'],
  settings: Settings,
): EvalRequest {
  return {
    ...requestFromArgs(p, ctx, mode, settings),
    parseOnly: flagSet(p, '--parse'),
    findFile: flagSet(p, '--find-file'),
    addRoot: flagValues(p, '--add-root').at(-1)?.[0],
    dryRun: flagSet(p, '--dry-run'),
    repair: flagSet(p, '--repair'),
  };
}

/** `-` as a file argument means the expression is read from standard input. */
export async function readStdinArgs(req: EvalRequest, ctx: CommandContext): Promise<EvalRequest> {
  if (!req.exprs.some((e) => e.kind === 'file' && e.text === '-')) return req;
  const chunks: Uint8Array[] = [];
  for await (const c of ctx.stdin()) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  return {
    ...req,
    exprs: req.exprs.map((e) => (e.kind === 'file' && e.text === '-' ? { kind: 'expr', text } : e)),
  };
}

/**
 * The EvalIO for evaluation: paths are computed for the store dir (NIX_STORE_DIR or /nix/store);
 * with `--store local?root=R` (or a plain directory) added paths are also written below R.
 */
export function evalIOSpec(ctx: CommandContext): EvalIOSpec {
  const storeDir = ctx.env.NIX_STORE_DIR ?? '/nix/store';
  const store = ctx.global.store || ctx.env.TIX_STORE;
  let storeWriteDir: string | undefined;
  if (store) {
    const m = /^local\?(?:.*&)?root=([^&]+)/.exec(store);
    if (m) storeWriteDir = nodePath.join(m[1]!, storeDir);
    else if (store.startsWith('/')) storeWriteDir = nodePath.join(store, storeDir);
  }
  return { options: { storeDir, storeWriteDir } };
}
