import { runCommand } from './command.js';

/** Device nodes and FIFOs, which Node cannot create itself. A 0:0 character device is an overlay whiteout. */
export async function mknod(path: string, type: 'c' | 'b', major: number, minor: number, mode: number): Promise<void> {
  await runCommand('mknod', ['-m', (mode & 0o7777).toString(8), path, type, String(major), String(minor)]);
}

export async function mkfifo(path: string, mode: number): Promise<void> {
  await runCommand('mkfifo', ['-m', (mode & 0o7777).toString(8), path]);
}
