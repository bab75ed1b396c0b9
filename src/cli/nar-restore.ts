// Unpacking a NAR into an ordinary directory tree, as `nix-store --restore` does: the target must
// not exist; files get mode 0666 (0777 if executable) and directories 0777, both minus the umask;
// timestamps are left as they fall.
import { closeSync, mkdirSync, openSync, symlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { NarFileWriter, NarSink } from '../formats/nar.js';
import { sysError } from './cli-error.js';

export function restoreSink(root: string): NarSink {
  const at = (rel: string) => (rel === '' ? root : join(root, rel));
  const sys = <T>(action: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw sysError(action, e);
    }
  };
  return {
    directory(rel) {
      const p = at(rel);
      sys(`creating directory '${p}'`, () => mkdirSync(p, 0o777));
    },
    symlink(rel, target) {
      const p = at(rel);
      sys(`creating symlink '${p}'`, () => symlinkSync(target, p));
    },
    regular(rel, executable): NarFileWriter {
      const p = at(rel);
      const fd = sys(`creating file '${p}'`, () => openSync(p, 'wx', executable ? 0o777 : 0o666));
      return {
        write(chunk) {
          let off = 0;
          while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
        },
        close() {
          closeSync(fd);
        },
      };
    },
  };
}
