/**
 * `--chmod` values as BuildKit reads them: an octal number up to 07777, or a symbolic mode in the
 * BSD chmod(1) grammar (`u+x`, `go-w`, `a=rX`, `g=u`, comma lists) applied to each copied entry with a
 * umask of 0. `X` adds execute bits to directories and to files that already have one.
 */

export class ChmodError extends Error {}

/** One step of a symbolic mode, applied in order. */
type ModeOp =
  | { op: 'set' | 'clear'; bits: number }
  /** Sets `bits` when the entry is a directory or its original mode has an execute bit. */
  | { op: 'setX'; bits: number }
  /** Copies one class's permissions to the classes in `to` (shifts: 6 user, 3 group, 0 other); `=` clears them first. */
  | { op: 'copy'; from: number; to: number[]; clear: boolean; set: boolean };

export type Chmod = { kind: 'octal'; mode: number } | { kind: 'symbolic'; ops: ModeOp[] };

const SUID = 0o4000;
const SGID = 0o2000;
const STICKY = 0o1000;
const USER = 0o700;
const GROUP = 0o070;
const OTHER = 0o007;
const READ = 0o444;
const WRITE = 0o222;
const EXEC = 0o111;
/** What `a` and an `=` without who cover; the sticky bit only moves when `t` is named. */
const STANDARD = SUID | SGID | USER | GROUP | OTHER;

const octalError = (s: string): ChmodError => new ChmodError(`invalid --chmod=${s}: it should be an octal mode between 0 and 07777, or a symbolic one such as u+x,go-w`);
const syntaxError = (s: string): ChmodError => new ChmodError(`invalid --chmod=${s}: expected an octal mode such as 0755 or a symbolic one such as u+x,go-w`);

/** Parses a `--chmod` value; throws a ChmodError naming it when it is neither octal nor symbolic. */
export function parseChmod(value: string): Chmod {
  if (/^[0-9]/.test(value)) {
    if (!/^[0-7]+$/.test(value) || parseInt(value, 8) > 0o7777) throw octalError(value);
    return { kind: 'octal', mode: parseInt(value, 8) };
  }
  const ops: ModeOp[] = [];
  let s = value;
  // `who` limits the bits an action touches; without it, every class (the umask is 0).
  const push = (op: '+' | '-' | 'X', who: number, perm: number): void => {
    const bits = who !== 0 ? who & perm : perm;
    ops.push(op === 'X' ? { op: 'setX', bits } : { op: op === '+' ? 'set' : 'clear', bits });
  };
  const assign = (who: number, perm: number): void => {
    ops.push({ op: 'clear', bits: who !== 0 ? who : STANDARD });
    push('+', who, perm);
  };
  for (;;) {
    let who = 0;
    for (;;) {
      if (s === '') throw syntaxError(value);
      const c = s[0];
      if (c === 'a') who |= STANDARD;
      else if (c === 'u') who |= SUID | USER;
      else if (c === 'g') who |= SGID | GROUP;
      else if (c === 'o') who |= OTHER;
      else break;
      s = s.slice(1);
    }
    // One or more `op perms` actions for this who, until a comma or the end.
    for (;;) {
      const op = s[0];
      s = s.slice(1);
      if (op !== '+' && op !== '-' && op !== '=') throw syntaxError(value);
      who &= ~STICKY;
      let perm = 0;
      let permX = 0;
      let assigned = false;
      for (;; s = s.slice(1)) {
        const c = s[0];
        if (c === 'r') perm |= READ;
        else if (c === 'w') perm |= WRITE;
        else if (c === 'x') perm |= EXEC;
        else if (c === 'X') {
          if (op === '-') perm |= EXEC;
          else permX = EXEC;
        } else if (c === 's') {
          // Set-id bits mean nothing for `o` alone.
          if (who === 0 || (who & ~OTHER) !== 0) perm |= SUID | SGID;
        } else if (c === 't') {
          if (who === 0 || (who & ~OTHER) !== 0) {
            who |= STICKY;
            perm |= STICKY;
          }
        } else if (c === 'u' || c === 'g' || c === 'o') {
          if (perm !== 0) {
            if (op === '=') assign(who, perm);
            else push(op, who, perm);
            perm = 0;
          }
          if (op === '=') assigned = true;
          if (permX !== 0) {
            push('X', who, permX);
            permX = 0;
          }
          // The target classes are those `who` names (by their read bit), or all three.
          const to = who !== 0 ? [0o400, 0o040, 0o004].filter((r) => who & r).map((r) => (r === 0o400 ? 6 : r === 0o040 ? 3 : 0)) : [6, 3, 0];
          ops.push({ op: 'copy', from: c === 'u' ? 6 : c === 'g' ? 3 : 0, to, clear: op !== '+', set: op !== '-' });
        } else {
          if (perm !== 0 || (op === '=' && !assigned)) {
            if (op === '=') assign(who, perm);
            else push(op, who, perm);
          }
          if (permX !== 0) push('X', who, permX);
          break;
        }
      }
      if (s === '' || s[0] === ',') break;
    }
    if (s === '') return { kind: 'symbolic', ops };
    s = s.slice(1);
  }
}

/** The mode of the directories a copy creates: 0755, or an octal --chmod's permission bits (BuildKit's MkdirAll). */
export function createdDirMode(chmod: Chmod | undefined): number {
  return chmod?.kind === 'octal' ? chmod.mode & 0o777 : 0o755;
}

/** The mode an entry gets: `mode` is its original mode (permission and special bits). */
export function applyChmod(chmod: Chmod, mode: number, isDir: boolean): number {
  if (chmod.kind === 'octal') return chmod.mode;
  const original = mode & 0o7777;
  let m = original;
  for (const o of chmod.ops) {
    switch (o.op) {
      case 'set':
        m |= o.bits;
        break;
      case 'clear':
        m &= ~o.bits;
        break;
      case 'setX':
        if (isDir || (original & EXEC) !== 0) m |= o.bits;
        break;
      case 'copy': {
        const value = (m >> o.from) & 0o7;
        if (o.clear) for (const sh of o.to) m &= ~((o.set ? 0o7 : value) << sh);
        if (o.set) for (const sh of o.to) m |= value << sh;
        break;
      }
    }
  }
  return m & 0o7777;
}
