/**
 * The error class of src/config. Codes: 'BAD_CONFIG' (a line that is not `name = value` or
 * `include PATH`), 'BAD_SETTING' (a value of the wrong type), 'MISSING_INCLUDE' (an `include`
 * whose file does not exist), 'INCLUDE_DEPTH' (includes nested too deeply, e.g. a cycle).
 */
export class ConfigError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = 'ConfigError';
  }
}

/** Where a setting's value came from: a file and line, `TIX_CONFIG:N`, or a command-line flag. */
export interface ConfigOrigin {
  file: string;
  line: number;
}

export function formatOrigin(o: ConfigOrigin): string {
  return o.line > 0 ? `${o.file}:${o.line}` : o.file;
}
