import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './helpers.js';

/** A real `redis-server` of the test's own, on a free loopback port, with its data in a temporary directory. */
export interface TestRedis {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Stops the server (SIGTERM by default; SIGKILL to simulate a crash) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and directory (so with AOF on, from the same data). */
  restart(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
  /** A new ioredis client, disconnected by `stop` and `close`. */
  connect(): Redis;
}

export interface RedisOptions {
  /** `always` or `everysec` turn AOF on (fsync per write or per second); default: no persistence at all. */
  appendfsync?: 'always' | 'everysec';
}

/** One PING over a raw socket: true once the server answers PONG (it answers LOADING while it replays its AOF). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
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
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-redis-'));
  const persistence = options.appendfsync
    ? ['--appendonly', 'yes', '--appendfsync', options.appendfsync]
    : ['--appendonly', 'no'];
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...persistence, '--daemonize', 'no'];
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const p = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    live.add(p);
    p.once('exit', () => live.delete(p));
    child = p;
    while (!(await ping(port))) {
      if (p.exitCode !== null || p.signalCode !== null) throw new Error(`redis-server exited: ${stderr}`);
      await sleep(20);
    }
  };

  const clients: Redis[] = [];
  const connect = (): Redis => {
    const c = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 3 });
    c.on('error', () => undefined); // a test that stops the server sees the failures on its commands
    clients.push(c);
    return c;
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    for (const c of clients.splice(0)) c.disconnect();
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
    connect,
    stop,
    async restart(signal) {
      await stop(signal);
      await start();
    },
    async close() {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
