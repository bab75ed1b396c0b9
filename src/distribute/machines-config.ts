// The machine list of a tix process: the `builders` setting (set by tix.conf, `--option builders`
// or `--builders SPEC`), whose default `@$TIX_CONF_DIR/machines` (/etc/tix/machines) reads the
// machines file beside tix.conf. Parsed with Nix 2.8's rules (formats/machines.ts): `@FILE`
// includes, a missing file contributes nothing, any other read error is fatal.
import { readFileSync } from 'node:fs';
import { FormatError } from '../formats/errors.js';
import { type Machine, parseMachines } from '../formats/machines.js';

export interface MachineSettings {
  /** The `builders` setting's text. */
  builders: string;
  /** The `system` setting: systems of a row that leaves column 2 unset. */
  system: string;
}

/** Reads an `@file` include: undefined when it does not exist, FormatError for other failures. */
export function readMachinesFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new FormatError('BAD_MACHINES', `cannot read machines file '${path}': ${(e as Error).message}`);
  }
}

/** The configured remote machines, in the order given. */
export function loadMachines(
  settings: MachineSettings,
  opts: { readFile?: (path: string) => string | undefined } = {},
): Machine[] {
  return parseMachines(settings.builders, {
    localSystem: settings.system,
    file: 'builders',
    readFile: opts.readFile ?? readMachinesFile,
  });
}
