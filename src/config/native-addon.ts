// The small N-API addons of native/ (built by scripts/setup.sh into native/build/Release/), found
// from this module in the compiled tree (dist/src/…) or the bundle (dist/bin/…). A missing addon is
// `null`: its callers fall back or do without.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const loaded = new Map<string, unknown>();

/** Where native/build/Release/NAME.node of this checkout is looked for. */
function nativeAddonCandidates(name: string): string[] {
  return ['../../native', '../../../native'].map((rel) =>
    fileURLToPath(new URL(`${rel}/build/Release/${name}.node`, import.meta.url)),
  );
}

/** The addon NAME, or null when it was not built. */
export function loadNativeAddon<T>(name: string): T | null {
  if (loaded.has(name)) return loaded.get(name) as T | null;
  const require = createRequire(import.meta.url);
  let addon: T | null = null;
  for (const p of nativeAddonCandidates(name)) {
    if (!existsSync(p)) continue;
    addon = require(p) as T;
    break;
  }
  loaded.set(name, addon);
  return addon;
}
