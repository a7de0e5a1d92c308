import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect as connectSocket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort, tempDir } from './helpers.js';

/** A real `redis-server` of the test's own, on a free loopback port, with its data in a temporary directory. */
export interface TestRedis {
  readonly port: number;
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  readonly dir: string;
  /** A new client, closed by `stop`. */
  connect(): Redis;
  /** Closes the clients, stops the server (SIGTERM by default; SIGKILL to simulate a crash) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and directory (so with AOF on, from the same data). */
  restart(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

export interface RedisOptions {
  /** Every write goes to the AOF first (same as `appendfsync: 'always'`). */
  aof?: boolean;
  /** `always` or `everysec` turn AOF on (fsync per write or per second); default: no persistence at all. */
  appendfsync?: 'always' | 'everysec';
}

/** One PING over a raw socket: true once the server answers PONG (it answers LOADING while it replays its AOF). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connectSocket(port, '127.0.0.1');
    let buf = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    sock.on('error', () => done(false));
  });
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export async function startRedis(options: RedisOptions = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = tempDir('redis');
  const fsync = options.appendfsync ?? (options.aof ? 'always' : undefined);
  const persistence = fsync ? ['--appendonly', 'yes', '--appendfsync', fsync] : ['--appendonly', 'no'];
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...persistence, '--daemonize', 'no'];
  let child: ChildProcess | undefined;
  const clients: Redis[] = [];

  const start = async (): Promise<void> => {
    const p = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    live.add(p);
    p.once('exit', () => live.delete(p));
    child = p;
    for (let i = 0; !(await ping(port)); i++) {
      if (p.exitCode !== null || p.signalCode !== null || i > 500) throw new Error(`redis-server did not start (install it: bash scripts/setup.sh): ${stderr}`);
      await sleep(20);
    }
  };

  const stopServer = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const p = child;
    child = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(signal);
    await exited;
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    connect() {
      const c = new Redis({ host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 3 });
      c.on('error', () => undefined); // a test that stops the server sees the failures on its commands
      clients.push(c);
      return c;
    },
    async stop(signal) {
      for (const c of clients.splice(0)) c.disconnect();
      await stopServer(signal);
    },
    async restart(signal) {
      await stopServer(signal);
      await start();
    },
    async close() {
      for (const c of clients.splice(0)) c.disconnect();
      await stopServer('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
