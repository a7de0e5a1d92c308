import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Thin wrappers over the peer tools the benchmarks compare with: BuildKit in Debian's dockerd, and buildah. */

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...opts.env }, cwd: opts.cwd, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
  return r;
}

export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** A private dockerd (its own data root and socket), driven with Debian's docker 20.10 client and BuildKit. */
export class Dockerd {
  readonly sock: string;
  private readonly pidFile: string;

  constructor(private readonly dir: string) {
    this.sock = join(dir, 'docker.sock');
    this.pidFile = join(dir, 'docker.pid');
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const child = spawn('dockerd', ['--iptables=false', '--data-root', join(this.dir, 'data'), '--exec-root', join(this.dir, 'exec'), '--pidfile', this.pidFile, '-H', `unix://${this.sock}`], { stdio: 'ignore', detached: true });
    child.unref();
    for (let i = 0; i < 100 && !this.ping(); i++) await sleep(100);
    if (!this.ping()) throw new Error('dockerd did not start');
  }

  private ping(): boolean {
    return existsSync(this.sock) && spawnSync('/usr/bin/docker', ['-H', `unix://${this.sock}`, 'info'], { stdio: 'ignore' }).status === 0;
  }

  docker(args: string[], cwd?: string): SpawnSyncReturns<string> {
    return run('/usr/bin/docker', ['-H', `unix://${this.sock}`, ...args], { env: { DOCKER_BUILDKIT: '1' }, ...(cwd ? { cwd } : {}) });
  }

  build(dir: string, tag: string): void {
    this.docker(['build', '--progress', 'plain', '-t', tag, dir]);
  }

  /** Forgets every build result: the next build is cold (the base image stays). */
  reset(tag: string): void {
    spawnSync('/usr/bin/docker', ['-H', `unix://${this.sock}`, 'rmi', '-f', tag], { stdio: 'ignore' });
    this.docker(['builder', 'prune', '-af']);
  }

  stop(): void {
    if (existsSync(this.pidFile)) {
      try {
        process.kill(Number(readFileSync(this.pidFile, 'utf8')), 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
}

/** buildah with its own storage root, running steps with runc on overlay, caching layers (`--layers`). */
export class Buildah {
  constructor(private readonly root: string) {}

  private args(rest: string[]): string[] {
    return ['--root', join(this.root, 'storage'), '--runroot', join(this.root, 'run'), '--storage-driver', 'overlay', ...rest];
  }

  load(dockerArchive: string): void {
    run('buildah', this.args(['pull', `docker-archive:${dockerArchive}`]));
  }

  build(dir: string, tag: string): void {
    run('buildah', this.args(['bud', '--runtime', '/usr/sbin/runc', '--layers', '--pull=never', '-t', tag, dir]));
  }

  /** Removes every image but the base: its layer cache goes with them. */
  reset(keep: string): void {
    const ids = run('buildah', this.args(['images', '-q', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    const base = run('buildah', this.args(['images', '-q', '--no-trunc', keep])).stdout.trim();
    const others = ids.filter((id) => id !== base);
    if (others.length) spawnSync('buildah', this.args(['rmi', '-f', ...others]), { stdio: 'ignore' });
  }
}

/**
 * Like the peers, whose stores keep the loaded base image between runs, a cold Dockyard cache starts
 * with the base pulled and unpacked: copies of the cache directory this returns, made once outside the timing.
 */
export function baseCacheTemplate(dockyard: (args: string[]) => void, work: string, busyboxLayout: string): string {
  const template = join(work, 'template-cache');
  const warm = join(work, 'warm');
  mkdirSync(warm);
  writeFileSync(join(warm, 'Dockerfile'), 'FROM busybox\nRUN true\n');
  dockyard(['build', '--progress', 'quiet', '--cache-dir', template, '--build-context', `busybox=oci-layout://${busyboxLayout}`, warm]);
  return template;
}
