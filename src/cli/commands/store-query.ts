// `tix store query [QUERY] PATH…` = `nix-store --query` (-q) of Nix 2.8, with the same output:
// --outputs (the default), --requisites/-R [--include-outputs], --references, --referrers,
// --referrers-closure, --deriver/-d, --binding/-b NAME, --hash, --size, --tree, --graph,
// --graphml, --resolve and --roots; --use-output/-u applies a query to a derivation's outputs.
// Lists come out in Nix's order: reverse topological (a path after everything it refers to), ties
// by store path.

import { referencesFirst } from '../../distribute/copy.js';
import { compareUtf8 } from '../../formats/byte-order.js';
import { isDerivationPath } from '../../formats/derivation.js';
import { parseHash, printHash } from '../../formats/hash.js';
import type { Store } from '../../store/store.js';
import { type FlagSpec, flagSet, flagValue, type ParsedArgs, parseArgs } from '../args.js';
import { CliError } from '../cli-error.js';
import { type Command, type CommandContext, UsageError } from '../command.js';
import { withStore } from '../open-store.js';
import { requireCapability } from '../store-capabilities.js';
import {
  computeFSClosure,
  readStoreDerivation,
  requirePathInfo,
  storeDirsOf,
  storePathArg,
} from '../store-paths.js';

const QUERIES: Record<string, FlagSpec> = {
  '--outputs': { arity: 0 },
  '--requisites': { arity: 0, aliases: ['-R'] },
  '--references': { arity: 0 },
  '--referrers': { arity: 0, aliases: ['--referers'] },
  '--referrers-closure': { arity: 0, aliases: ['--referers-closure'] },
  '--deriver': { arity: 0, aliases: ['-d'] },
  '--binding': { arity: 1, aliases: ['-b'] },
  '--hash': { arity: 0 },
  '--size': { arity: 0 },
  '--tree': { arity: 0 },
  '--graph': { arity: 0 },
  '--graphml': { arity: 0 },
  '--resolve': { arity: 0 },
  '--roots': { arity: 0 },
};

/** Store paths sorted as Nix's StorePath set (by base name, i.e. by hash part). */
function sortedPaths(paths: Iterable<string>): string[] {
  return [...paths].sort(compareUtf8);
}

/**
 * `paths`, each after those it refers to (Nix 2.8 prints its Store::topoSortPaths reversed: the
 * same order); a path that is not valid has no references here, as there.
 */
async function inReferenceOrder(store: Store, paths: Iterable<string>): Promise<string[]> {
  const infos = new Map<string, { references: readonly string[] }>();
  for (const p of paths) infos.set(p, (await store.queryPathInfo(p)) ?? { references: [] });
  return referencesFirst(infos);
}

export const storeQuery: Command = {
  name: ['store', 'query'],
  summary: 'query store paths: references, closures, derivers, trees (like nix-store --query)',
  async run(argv, ctx) {
    const args = parseArgs(argv, {
      ...QUERIES,
      '--use-output': { arity: 0, aliases: ['-u'] },
      '--include-outputs': { arity: 0 },
      '--force-realise': { arity: 0, aliases: ['--force-realize', '-f'] },
    });
    const given = Object.keys(QUERIES).filter((q) => flagSet(args, q));
    if (given.length > 1) throw new UsageError(`query type '${given[1]}' conflicts with earlier flag`);
    if (flagSet(args, '--force-realise')) {
      throw new UsageError(
        "'--force-realise' is not supported here; build the paths with 'tix store realise' first",
      );
    }
    return withStore(ctx, (store) => query(store, given[0] ?? '--outputs', args, ctx));
  },
};

async function query(store: Store, q: string, args: ParsedArgs, ctx: CommandContext): Promise<number> {
  const dirs = storeDirsOf(store);
  const paths = args.positional.map((a) => storePathArg(a, { cwd: ctx.cwd, ...dirs }));
  const print = (line: string) => ctx.out.write(`${line}\n`);
  /** Nix's maybeUseOutputs: a derivation's output paths (from the .drv), or the path itself. */
  const use = async (p: string, useOutput: boolean): Promise<string[]> => {
    if (!useOutput || !isDerivationPath(p)) return [p];
    const drv = await readStoreDerivation(store, p);
    return sortedPaths([...drv.outputs.values()].map((o) => o.path).filter((o) => o !== ''));
  };
  const useOutput = flagSet(args, '--use-output');
  switch (q) {
    case '--outputs':
      for (const p of paths) for (const o of await use(p, true)) print(o);
      return 0;
    case '--requisites':
    case '--references':
    case '--referrers':
    case '--referrers-closure': {
      const found = new Set<string>();
      for (const p of paths) {
        for (const j of await use(p, useOutput)) {
          if (q === '--requisites')
            await computeFSClosure(store, j, found, { includeOutputs: flagSet(args, '--include-outputs') });
          else if (q === '--references')
            for (const r of (await requirePathInfo(store, j)).references) found.add(r);
          else if (q === '--referrers') for (const r of await store.queryReferrers(j)) found.add(r);
          else await computeFSClosure(store, j, found, { referrers: true });
        }
      }
      for (const p of await inReferenceOrder(store, found)) print(p);
      return 0;
    }
    case '--deriver':
      for (const p of paths) print((await requirePathInfo(store, p)).deriver ?? 'unknown-deriver');
      return 0;
    case '--binding': {
      const name = flagValue(args, '--binding')!;
      for (const p of paths) {
        const drvPath = isDerivationPath(p) ? p : (await requirePathInfo(store, p)).deriver;
        if (drvPath === undefined) throw new CliError('BAD_INPUT', `'${p}' does not have a valid deriver`);
        const value = (await readStoreDerivation(store, drvPath)).env.get(name);
        if (value === undefined)
          throw new CliError(
            'BAD_INPUT',
            `derivation '${drvPath}' has no environment binding named '${name}'`,
          );
        print(value);
      }
      return 0;
    }
    case '--hash':
    case '--size':
      for (const p of paths) {
        for (const j of await use(p, useOutput)) {
          const info = await requirePathInfo(store, j);
          print(
            q === '--size'
              ? String(info.narSize)
              : printHash(parseHash(info.narHash), 'nix32', { prefix: true }),
          );
        }
      }
      return 0;
    case '--tree': {
      const done = new Set<string>();
      const tree = async (p: string, firstPad: string, tailPad: string): Promise<void> => {
        if (done.has(p)) {
          print(`${firstPad}${p} [...]`);
          return;
        }
        done.add(p);
        print(`${firstPad}${p}`);
        const refs = await inReferenceOrder(store, (await requirePathInfo(store, p)).references);
        for (let n = 0; n < refs.length; n++) {
          const last = n + 1 === refs.length;
          await tree(refs[n]!, tailPad + (last ? '└───' : '├───'), tailPad + (last ? '    ' : '│   '));
        }
      };
      for (const p of paths) await tree(p, '', '');
      return 0;
    }
    case '--graph': {
      const roots: string[] = [];
      for (const p of paths) roots.push(...(await use(p, useOutput)));
      await printDotGraph(store, roots, print);
      return 0;
    }
    case '--graphml': {
      const roots: string[] = [];
      for (const p of paths) roots.push(...(await use(p, useOutput)));
      await printGraphML(store, roots, print);
      return 0;
    }
    case '--resolve':
      for (const p of paths) print(p);
      return 0;
    case '--roots': {
      const start: string[] = [];
      for (const p of paths) start.push(...(await use(p, useOutput)));
      const referrers = new Set<string>();
      for (const p of start) await computeFSClosure(store, p, referrers, { referrers: true });
      // As `tix store gc --print-roots`: links sorted, without this process's temporary roots.
      const roots = await requireCapability(store, 'findRoots', 'listing roots').findRoots();
      const lines = [...roots]
        .filter(([link, path]) => !link.startsWith('{') && referrers.has(path))
        .map(([link, path]) => `${link} -> ${path}`);
      for (const l of lines.sort(compareUtf8)) print(l);
      return 0;
    }
  }
  throw new UsageError(`unknown query '${q}'`);
}

/** Nix 2.8's printGraphML: a node per path (in path order) with its NAR size, an edge per reference. */
async function printGraphML(store: Store, roots: string[], print: (line: string) => void): Promise<void> {
  const work = new Set(roots);
  const done = new Set<string>();
  const base = (p: string) => p.slice(store.storeDir.length + 1);
  const out = [
    "<?xml version='1.0' encoding='utf-8'?>",
    "<graphml xmlns='http://graphml.graphdrawing.org/xmlns'",
    "    xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'",
    "    xsi:schemaLocation='http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd'>",
    "<key id='narSize' for='node' attr.name='narSize' attr.type='int'/>" +
      "<key id='name' for='node' attr.name='name' attr.type='string'/>" +
      "<key id='type' for='node' attr.name='type' attr.type='string'/>" +
      "<graph id='G' edgedefault='directed'>",
  ];
  while (work.size > 0) {
    const path = sortedPaths(work)[0]!;
    work.delete(path);
    if (done.has(path)) continue;
    done.add(path);
    const info = await requirePathInfo(store, path);
    const name = base(path).slice(33);
    // Nix's symbolicName: the name up to its first '-', inclusive ("" without one).
    const symbolic = name.slice(0, name.indexOf('-') + 1);
    out.push(
      `  <node id="${base(path)}">`,
      `    <data key="narSize">${info.narSize}</data>`,
      `    <data key="name">${symbolic}</data>`,
      `    <data key="type">${isDerivationPath(path) ? 'derivation' : 'output-path'}</data>`,
      '  </node>',
    );
    for (const r of sortedPaths(info.references)) {
      if (r === path) continue;
      work.add(r);
      out.push(`  <edge source="${base(path)}" target="${base(r)}"/>`);
    }
  }
  out.push('</graph>', '</graphml>');
  for (const l of out) print(l);
}

const COLOURS = ['black', 'red', 'green', 'blue', 'magenta', 'burlywood'];

/** Nix 2.8's printDotGraph: one box per path (taken in path order), an edge from each reference. */
async function printDotGraph(store: Store, roots: string[], print: (line: string) => void): Promise<void> {
  const work = new Set(roots);
  const done = new Set<string>();
  const base = (p: string) => p.slice(store.storeDir.length + 1);
  let colour = 0;
  const out: string[] = ['digraph G {'];
  while (work.size > 0) {
    const path = sortedPaths(work)[0]!;
    work.delete(path);
    if (done.has(path)) continue;
    done.add(path);
    const id = base(path);
    out.push(`"${id}" [label = "${id.slice(33)}", shape = box, style = filled, fillcolor = "#ff0000"];`);
    for (const r of sortedPaths((await requirePathInfo(store, path)).references)) {
      if (r === path) continue;
      work.add(r);
      out.push(`"${base(r)}" -> "${id}" [color = "${COLOURS[colour++ % COLOURS.length]}"];`);
    }
  }
  out.push('}');
  for (const l of out) print(l);
}

/**
 * `tix store check-validity [--print-invalid] PATH…` = `nix-store --check-validity`: fails on the
 * first path that is not valid, or with --print-invalid lists those that are not.
 */
export const storeCheckValidity: Command = {
  name: ['store', 'check-validity'],
  summary: 'check that store paths are valid (like nix-store --check-validity)',
  async run(argv, ctx) {
    const args = parseArgs(argv, { '--print-invalid': { arity: 0 } });
    return withStore(ctx, async (store) => {
      for (const arg of args.positional) {
        const path = storePathArg(arg, { cwd: ctx.cwd, ...storeDirsOf(store) });
        if (await store.isValidPath(path)) continue;
        if (!flagSet(args, '--print-invalid'))
          throw new CliError('INVALID_PATH', `path '${path}' is not valid`);
        ctx.out.write(`${path}\n`);
      }
      return 0;
    });
  },
};
