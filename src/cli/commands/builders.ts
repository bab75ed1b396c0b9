// `tix builders list [--no-probe]`: the parsed machine list (`builders` setting, `--builders SPEC`,
// the machines file) with each machine's state and load. `tix builders check [NAME…]`: a full round
// trip to each builder (or those whose URI or host contains NAME), step by step; exit 1 if any fails.

import { type CheckStep, checkMachine } from '../../distribute/check.js';
import { type ProbeResult, probeMachine } from '../../distribute/probe.js';
import type { Machine } from '../../formats/machines.js';
import { flagSet, parseArgs } from '../args.js';
import { CliError } from '../cli-error.js';
import { cliSettings } from '../cli-settings.js';
import type { Command, CommandContext } from '../command.js';
import { withStore } from '../open-store.js';
import { buildersFlagSettings, configuredMachines } from '../remote-builds.js';

const list = (xs: string[]) => (xs.length > 0 ? xs.join(',') : '-');

function machineRow(m: Machine, p: ProbeResult | undefined): Record<string, unknown> {
  return {
    uri: m.storeUri,
    systems: m.systems,
    sshKey: m.sshKey || null,
    maxJobs: m.maxJobs,
    speedFactor: m.speedFactor,
    supportedFeatures: m.supportedFeatures,
    mandatoryFeatures: m.mandatoryFeatures,
    hostKeyPinned: m.sshPublicHostKey !== '',
    source: m.source ? `${m.source.file}:${m.source.line}` : null,
    ...(p ? { up: p.up, state: p.state, loadAverage: p.loadAverage ?? null } : {}),
  };
}

function settingsFor(argv: string[], ctx: CommandContext, extra: Record<string, { arity: number }>) {
  const args = parseArgs(argv, { '--builders': { arity: 1 }, '--json': { arity: 0 }, ...extra });
  const settings = cliSettings(ctx, buildersFlagSettings(args));
  const connect = { env: ctx.env, connectTimeout: settings.get('connect-timeout') };
  return { args, settings, connect, json: flagSet(args, '--json') || ctx.global.json };
}

export const buildersList: Command = {
  name: ['builders', 'list'],
  summary: 'list the remote builders with their state and load',
  async run(argv, ctx) {
    const { args, settings, connect, json } = settingsFor(argv, ctx, { '--no-probe': { arity: 0 } });
    const machines = configuredMachines(settings);
    const probes = flagSet(args, '--no-probe')
      ? machines.map(() => undefined)
      : await Promise.all(machines.map((m) => probeMachine(m, connect)));
    const rows = machines.map((m, i) => machineRow(m, probes[i]));
    if (json) {
      ctx.out.write(`${JSON.stringify(rows)}\n`);
      return 0;
    }
    if (machines.length === 0)
      ctx.err.write(`no remote builders (builders = '${settings.get('builders')}')\n`);
    machines.forEach((m, i) => {
      const p = probes[i];
      ctx.out.write(`${m.storeUri}\n`);
      ctx.out.write(`  systems ${list(m.systems)}, maxJobs ${m.maxJobs}, speedFactor ${m.speedFactor}\n`);
      ctx.out.write(`  features ${list(m.supportedFeatures)}, mandatory ${list(m.mandatoryFeatures)}\n`);
      ctx.out.write(
        `  host key ${m.sshPublicHostKey ? 'pinned' : 'not pinned'}, ssh key ${m.sshKey || '-'}\n`,
      );
      if (p) {
        const load = p.loadAverage !== undefined ? `, load ${p.loadAverage.toFixed(2)}` : '';
        ctx.out.write(`  state ${p.state}${load}\n`);
      }
    });
    return 0;
  },
};

function printSteps(ctx: CommandContext, name: string, steps: CheckStep[]): void {
  ctx.out.write(`${name}\n`);
  for (const s of steps) {
    const mark = s.ok === true ? 'pass' : s.ok === false ? 'FAIL' : 'skip';
    ctx.out.write(`  ${mark}  ${s.step.padEnd(15)} ${s.detail}\n`);
  }
}

export const buildersCheck: Command = {
  name: ['builders', 'check'],
  summary: 'connect to builders and run a test build on each, step by step',
  async run(argv, ctx) {
    const { args, settings, connect, json } = settingsFor(argv, ctx, {});
    let machines = configuredMachines(settings);
    if (args.positional.length > 0) {
      machines = machines.filter((m) => args.positional.some((n) => m.storeUri.includes(n)));
      if (machines.length === 0) {
        throw new CliError('NOT_FOUND', `no configured builder matches '${args.positional.join("', '")}'`);
      }
    }
    if (machines.length === 0) throw new CliError('NOT_FOUND', 'no remote builders are configured');
    return withStore(
      ctx,
      async (store) => {
        const results = await Promise.all(machines.map((m) => checkMachine(store, m, connect)));
        if (json) {
          ctx.out.write(
            `${JSON.stringify(machines.map((m, i) => ({ uri: m.storeUri, steps: results[i] })))}\n`,
          );
        } else {
          for (const [i, m] of machines.entries()) printSteps(ctx, m.storeUri, results[i]!);
        }
        return results.every((steps) => steps.every((s) => s.ok === true)) ? 0 : 1;
      },
      settings,
    );
  },
};
