import { readFileSync } from 'node:fs';

/**
 * Names a running process so that its death can be told apart from a live process that later got
 * the same pid: boot id, pid and the process's start time in clock ticks since boot. Nothing needs
 * to run at exit, so `kill -9` leaves nothing that looks alive.
 */
export type ProcessIdentity = string;

let boot: string | undefined;

function bootId(): string {
  boot ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '').slice(0, 12);
  return boot;
}

/** Field 22 of /proc/PID/stat (`starttime`), counted after the parenthesised command name. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** This process, as `<boot>.<pid>.<start>`: safe in file names. */
export function selfIdentity(): ProcessIdentity {
  return `${bootId()}.${process.pid}.${startTime(process.pid) ?? '0'}`;
}

/** True while the process named by `id` runs on this machine. A malformed id is taken as dead. */
export function isAlive(id: ProcessIdentity): boolean {
  const [b, pid, start] = id.split('.');
  if (b !== bootId() || !pid || !/^\d+$/.test(pid)) return false;
  return startTime(Number(pid)) === start;
}
