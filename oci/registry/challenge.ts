/** One `WWW-Authenticate` challenge: `Basic realm="..."` or `Bearer realm="...",service="...",scope="..."`. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses a `WWW-Authenticate` header (RFC 7235), quoted values and several challenges included. */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const out: Challenge[] = [];
  const re = /\s*([A-Za-z][\w-]*)(?:\s+|$)|\s*([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/gy;
  let current: Challenge | undefined;
  for (let m = re.exec(header); m && m[0] !== ''; m = re.exec(header)) {
    if (m[1] !== undefined) {
      current = { scheme: m[1].toLowerCase(), params: {} };
      out.push(current);
    } else if (current && m[2] !== undefined) {
      current.params[m[2].toLowerCase()] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : (m[4] ?? '');
    }
  }
  return out;
}
