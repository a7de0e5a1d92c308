import { openSync, closeSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { UsageError } from './errors.js';

/** Reads one line from the terminal without echoing it (the prompt goes to stderr). */
async function promptHidden(prompt: string): Promise<Buffer> {
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r');
  } catch {
    throw new UsageError('no password: set COSIGN_PASSWORD, or run on a terminal to be asked for it');
  }
  const tty = new ReadStream(fd);
  // Echo goes off before the prompt appears, so nothing typed after it is shown.
  tty.setRawMode(true);
  process.stderr.write(prompt);
  const typed: number[] = [];
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      tty.on('data', (chunk: Buffer) => {
        for (const byte of chunk) {
          if (byte === 0x0d || byte === 0x0a) return resolve(Buffer.from(typed));
          if (byte === 0x03) return reject(new UsageError('cancelled'));
          if (byte === 0x7f || byte === 0x08) typed.pop();
          else typed.push(byte);
        }
      });
    });
  } finally {
    typed.fill(0);
    tty.setRawMode(false);
    tty.destroy();
    process.stderr.write('\n');
    try {
      closeSync(fd);
    } catch {
      // the stream closed it
    }
  }
}

/**
 * The key's password, as cosign takes it: `COSIGN_PASSWORD` when set (even empty), else asked on the
 * terminal; `confirm` asks twice (for a new key).
 */
export async function keyPassword(confirm: boolean, env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  if (env.COSIGN_PASSWORD !== undefined) return Buffer.from(env.COSIGN_PASSWORD);
  const first = await promptHidden('Enter password for private key: ');
  if (!confirm) return first;
  const again = await promptHidden('Enter password for private key again: ');
  if (!first.equals(again)) throw new UsageError('the passwords do not match');
  return first;
}
