// Stack traces in terms of the TypeScript sources. The bundle the executables run (dist/bin/tix.cjs,
// see scripts/bundle.mjs) is minified, all on a few long lines, so the frames of an internal error
// (or of `--show-trace`/`--debug`) are mapped back through its source map, tix.cjs.map beside it,
// when they are printed. Frames of other files, or without a map, stay as they are.
import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapping } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `/path/to/x.cjs:LINE:COL` or `file:///path/to/x.cjs:LINE:COL` in a stack frame. */
const FRAME = /((?:file:\/\/)?\/[^\s():]+\.cjs):(\d+):(\d+)/g;

function loadMap(file: string): SourceMap | null {
  try {
    return new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
  } catch {
    return null;
  }
}

/** `stack` with each frame of a bundle that has a source map replaced by its place in the sources. */
export function sourceMappedStack(stack: string): string {
  const maps = new Map<string, SourceMap | null>();
  return stack.replace(FRAME, (frame: string, where: string, line: string, col: string) => {
    const file = where.startsWith('file://') ? fileURLToPath(where) : where;
    let map = maps.get(file);
    if (map === undefined) {
      map = loadMap(file);
      maps.set(file, map);
    }
    if (map === null) return frame;
    const e = map.findEntry(Number(line) - 1, Number(col) - 1) as Partial<SourceMapping>;
    if (!e.originalSource) return frame;
    const src = e.originalSource;
    const source = src.startsWith('file://') ? fileURLToPath(src) : resolve(dirname(file), src);
    return `${source}:${(e.originalLine ?? 0) + 1}:${(e.originalColumn ?? 0) + 1}`;
  });
}
