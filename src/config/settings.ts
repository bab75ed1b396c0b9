// A set of setting values with where each came from. `set` applies one `name = value` the way
// Nix's Config::set does (aliases, `extra-NAME` appending to list settings) and turns anything it
// cannot apply into a warning: a Nix setting tix does not implement, or a name nobody knows.
import { ConfigError, type ConfigOrigin, formatOrigin } from './errors.js';
import {
  type DefaultContext,
  SETTING_BY_NAME,
  SETTINGS,
  type SettingName,
  type SettingValues,
} from './registry.js';
import { UNSUPPORTED_SETTINGS } from './unsupported.js';
import { appendSettingValue, isAppendable, parseSettingValue, printSettingValue } from './values.js';

export interface SettingEntry {
  name: SettingName;
  /** The value as `nix show-config` prints it. */
  value: string;
  /** "default", or the place that set it last ("/etc/tix/tix.conf:3", "TIX_CONFIG:1", "--option"). */
  origin: string;
  description: string;
  /** The parsed value, and the default (what the machine and nothing else gives). */
  current: unknown;
  default: unknown;
  aliases: string[];
}

export class Settings {
  /** Values set so far; a setting nobody set has its default (computed when first asked for). */
  readonly #values = new Map<SettingName, unknown>();
  readonly #defaults = new Map<SettingName, unknown>();
  readonly #context: DefaultContext;
  readonly #origins = new Map<SettingName, string>();
  /** Complaints that did not stop loading, without the "warning: " prefix, in order, deduplicated. */
  readonly warnings: string[] = [];
  /** Settings given by the user (not the system file), name → value text: what a client forwards to a daemon. */
  readonly overridden = new Map<string, string>();

  /** `defaults` may compute some of its fields when they are read (see load.ts's CPU levels). */
  constructor(defaults: DefaultContext) {
    this.#context = defaults;
  }

  get<K extends SettingName>(name: K): SettingValues[K] {
    return this.#current(name) as SettingValues[K];
  }

  /** The default of `name`, computed once, when first needed. */
  #default(name: SettingName): unknown {
    if (this.#defaults.has(name)) return this.#defaults.get(name);
    const value = SETTINGS[name].default(this.#context);
    this.#defaults.set(name, value);
    return value;
  }

  #current(name: SettingName): unknown {
    return this.#values.has(name) ? this.#values.get(name) : this.#default(name);
  }

  /** The value of a supported setting (name or alias) as nix.conf text; undefined for other names. */
  text(name: string): string | undefined {
    const target = SETTING_BY_NAME.get(name);
    return target === undefined ? undefined : printSettingValue(SETTINGS[target].type, this.#current(target));
  }

  /** Where the current value of `name` came from ("default" if nobody set it). */
  origin(name: SettingName): string {
    return this.#origins.get(name) ?? 'default';
  }

  /**
   * Applies `name = value` from `origin`. Throws ConfigError('BAD_SETTING') for a value of the wrong
   * type; records a warning for unsupported or unknown names. `override` marks user-level settings.
   */
  set(name: string, value: string, origin: ConfigOrigin, opts: { override?: boolean } = {}): void {
    const where = ` in '${formatOrigin(origin)}'`;
    let target = SETTING_BY_NAME.get(name);
    let append = false;
    if (target === undefined && name.startsWith('extra-')) {
      const base = SETTING_BY_NAME.get(name.slice(6));
      if (base !== undefined && isAppendable(SETTINGS[base].type)) {
        target = base;
        append = true;
      }
    }
    if (target === undefined) {
      const bare = name.startsWith('extra-') ? name.slice(6) : name;
      const why = UNSUPPORTED_SETTINGS.get(name) ?? UNSUPPORTED_SETTINGS.get(bare);
      if (why !== undefined) this.#warn(`ignoring setting '${name}'${where}: not supported by tix (${why})`);
      else this.#warn(`unknown setting '${name}'${where}`);
      return;
    }
    const def = SETTINGS[target];
    const parsed = parseSettingValue(def.type, target, value, { where, warn: (m) => this.#warn(m) });
    this.#values.set(target, append ? appendSettingValue(def.type, this.#current(target), parsed) : parsed);
    this.#origins.set(target, formatOrigin(origin));
    if (opts.override) this.overridden.set(name, value);
  }

  /** Every supported setting, sorted by name, as `tix show-config` lists them. */
  entries(): SettingEntry[] {
    return (Object.keys(SETTINGS) as SettingName[]).sort().map((name) => ({
      name,
      value: printSettingValue(SETTINGS[name].type, this.#current(name)),
      origin: this.origin(name),
      description: SETTINGS[name].description,
      current: this.#current(name),
      default: this.#default(name),
      aliases: SETTINGS[name].aliases ?? [],
    }));
  }

  #warn(message: string): void {
    if (!this.warnings.includes(message)) this.warnings.push(message);
  }
}

export { ConfigError };
