import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort, tempDir } from './helpers.js';

export interface TestRedis {
  port: number;
  /** `redis://127.0.0.1:PORT` */
  url: string;
  /** A new client, closed by `stop`. */
  connect(): Redis;
  /** Closes the clients and ends the server. */
  stop(): Promise<void>;
}

const running: ChildProcess[] = [];
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/**
 * A real redis-server on a free loopback port, its files in a temporary directory. Without `aof` it
 * keeps nothing on disk (`--save "" --appendonly no`); with it, every write goes to the AOF first.
 */
export async function startRedis(opts: { aof?: boolean } = {}): Promise<TestRedis> {
  const dir = tempDir('redis');
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', opts.aof ? 'yes' : 'no', ...(opts.aof ? ['--appendfsync', 'always'] : [])];
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  running.push(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const clients: Redis[] = [];
  const connect = (): Redis => {
    const c = new Redis({ host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 3 });
    c.on('error', () => undefined); // a test that stops the server sees the failures on its commands
    clients.push(c);
    return c;
  };
  const stop = async (): Promise<void> => {
    for (const c of clients) c.disconnect();
    child.kill('SIGTERM');
    await exited;
  };
  const probe = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) break;
      const ok = await probe.connect().then(
        () => probe.ping().then((r) => r === 'PONG'),
        () => false,
      );
      if (ok) {
        child.unref();
        return { port, url: `redis://127.0.0.1:${port}`, connect, stop };
      }
      probe.disconnect();
      await sleep(50);
    }
  } finally {
    probe.disconnect();
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not start (install it: bash scripts/setup.sh)');
}
