// Which store a command talks to: `--store URI` > env TIX_STORE > the `store` setting > "auto"
// (the setting's default), opened with `openStore` from the store layer.
import type { Settings } from '../config/settings.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { cliSettings } from './cli-settings.js';
import type { CommandContext } from './command.js';

export function resolveCliStoreUri(ctx: CommandContext, settings: Settings): string {
  if (ctx.global.store !== undefined && ctx.global.store !== '') return ctx.global.store;
  if (ctx.env.TIX_STORE) return ctx.env.TIX_STORE;
  return settings.get('store');
}

export async function openCliStore(
  ctx: CommandContext,
  settings: Settings = cliSettings(ctx),
): Promise<Store> {
  return openStore(resolveCliStoreUri(ctx, settings), {
    settings: { get: (k) => settings.text(k) },
    env: ctx.env,
    // Nix's levels: info by default, one less per --quiet, one more per -v.
    verbosity: Math.min(7, Math.max(0, 3 + (ctx.global.verbosity ?? 0))),
    overrides: settings.overridden,
  });
}

/** Opens the store, runs `fn`, and closes the store whatever happens. */
export async function withStore<T>(
  ctx: CommandContext,
  fn: (store: Store, settings: Settings) => Promise<T>,
  settings: Settings = cliSettings(ctx),
): Promise<T> {
  const store = await openCliStore(ctx, settings);
  try {
    return await fn(store, settings);
  } finally {
    await store.close();
  }
}
