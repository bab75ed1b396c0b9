// Path string helpers with Nix's semantics (canonPath: no `.`/`..`, no duplicate or trailing
// slashes, symlinks not resolved).

export function canonPath(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return `/${parts.join('/')}`;
}

export function joinPath(dir: string, rel: string): string {
  return dir.endsWith('/') ? dir + rel : `${dir}/${rel}`;
}

/** Nix's absPath: `p` made absolute against `dir`, canonicalised. */
export function absPath(p: string, dir: string): string {
  return canonPath(p.startsWith('/') ? p : joinPath(dir, p));
}

/** Nix's dirOf: everything before the last slash ("/" for top-level, "." when there is none). */
export function dirOf(p: string): string {
  const i = p.lastIndexOf('/');
  if (i < 0) return '.';
  if (i === 0) return '/';
  return p.slice(0, i);
}

/** Nix's baseNameOf: the part after the last slash, ignoring one trailing slash. */
export function baseNameOf(p: string): string {
  let end = p.length;
  if (end > 0 && p[end - 1] === '/') end--;
  const i = p.lastIndexOf('/', end - 1);
  return p.slice(i + 1, end);
}
