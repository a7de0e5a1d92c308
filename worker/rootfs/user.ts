import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { lstatSync, readlinkSync } from 'node:fs';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

export class UserError extends Error {}

/** Resolves `path` inside `root` the way a chroot would, so a symlinked /etc/passwd cannot point outside. */
export function pathInRoot(root: string, path: string): string {
  const parts = path.split('/').filter((p) => p && p !== '.');
  const done: string[] = [];
  for (let hops = 0; parts.length > 0; ) {
    const part = parts.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const candidate = join(root, ...done, part);
    let st;
    try {
      st = lstatSync(candidate);
    } catch {
      done.push(part);
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++hops > 40) throw new UserError(`too many symlinks resolving ${path}`);
      const target = readlinkSync(candidate);
      if (target.startsWith('/')) done.length = 0;
      parts.unshift(...target.split('/').filter((p) => p && p !== '.'));
      continue;
    }
    done.push(part);
  }
  return join(root, ...done);
}

function readDb(root: string, file: string): string[][] {
  try {
    return readFileSync(pathInRoot(root, file), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

const numeric = (s: string): boolean => /^\d+$/.test(s);

/** Resolves USER/`--chown` specs (`name`, `uid`, `name:group`, `uid:gid`) against the root filesystem's passwd and group. */
export function resolveUser(root: string, spec: string): ResolvedUser {
  // No USER means uid 0, whether or not the image has a passwd file.
  const [userPart = '', groupPart] = spec === '' ? ['0'] : spec.split(':');
  const passwd = readDb(root, '/etc/passwd');
  const groups = readDb(root, '/etc/group');
  let uid: number;
  let gid = 0;
  let home = '/';
  let name: string | undefined;
  const entry = passwd.find((e) => (numeric(userPart) ? e[2] === userPart : e[0] === userPart));
  if (entry) {
    uid = Number(entry[2]);
    gid = Number(entry[3]);
    home = entry[5] || '/';
    name = entry[0];
  } else if (numeric(userPart)) {
    uid = Number(userPart);
  } else {
    throw new UserError(`unable to find user ${userPart}: no matching entries in passwd file`);
  }
  if (userPart === 'root' || uid === 0) home = entry?.[5] || '/root';
  if (groupPart !== undefined && groupPart !== '') {
    const g = groups.find((e) => (numeric(groupPart) ? e[2] === groupPart : e[0] === groupPart));
    if (g) gid = Number(g[2]);
    else if (numeric(groupPart)) gid = Number(groupPart);
    else throw new UserError(`unable to find group ${groupPart}: no matching entries in group file`);
  }
  const additionalGids =
    groupPart === undefined && name !== undefined
      ? groups.filter((g) => (g[3] ?? '').split(',').includes(name!) && Number(g[2]) !== gid).map((g) => Number(g[2]))
      : [];
  return { uid, gid, additionalGids, home: posix.normalize(home) };
}
