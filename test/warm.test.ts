import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { FsBlobStore } from '../cache/fs-blob-store.js';
import { BuildEventLog } from '../coordinator/farm/build-events.js';
import { JsonLog } from '../coordinator/farm/log.js';
import { MAX_PRIORITY } from '../coordinator/queue/build-job.js';
import { BuildQueue } from '../coordinator/queue/build-queue.js';
import { DEFAULT_PREFIX } from '../coordinator/queue/redis-connection.js';
import { WarmRunner } from '../coordinator/warm/warm-runner.js';
import { WarmSchedules } from '../coordinator/warm/warm-schedules.js';
import { WarmStatusStore } from '../coordinator/warm/warm-status.js';
import { parseWarmFile } from '../coordinator/warm/warm-file.js';
import { busyboxDir, requireTools, stepStates } from './engine-helpers.js';
import { startCoordinator, startWorker, type FarmProcess } from './farm-helpers.js';
import { freePort, makeDir, runCli, tempDir } from './helpers.js';
import { startRedis, type TestRedis } from './redis-helpers.js';

/** Three steps on a base of our own (the busybox binary), so that an entry needs no named context. */
const DOCKERFILE = `FROM scratch AS base
ARG GREETING
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "echo $GREETING > /greeting"]
FROM base AS test
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox cat /greeting > /tested"]
`;

/** A context directory with the Dockerfile and the busybox binary. */
function appContext(): string {
  const dir = makeDir({ Dockerfile: DOCKERFILE });
  copyFileSync(join(busyboxDir, 'amd64', 'busybox'), join(dir, 'busybox'));
  return dir;
}

/** A warm-up file `warm.yaml` in a directory of its own; returns its path. */
function warmFile(text: string, dir = tempDir('warm')): string {
  const path = join(dir, 'warm.yaml');
  writeFileSync(path, text);
  return path;
}

const entry = (name: string, context: string, schedule: string): string =>
  `  - name: ${name}\n    context: ${context}\n    targets: [test]\n    args:\n      GREETING: hello\n    schedule: "${schedule}"\n`;

describe('the warm-up file', () => {
  const cases: [string, string, RegExp][] = [
    ['an unknown field', 'entries:\n  - name: web\n    context: .\n    schedule: "0 3 * * *"\n    pushh: true\n', /^error: warm\.yaml:5: entries\[0\]\.pushh: unknown field/],
    ['a bad cron pattern', 'entries:\n  - name: web\n    context: .\n    schedule: "0 3 * * *"\n  - name: api\n    context: .\n    schedule: "61 * * * *"\n', /^error: warm\.yaml:7: entries\[1\]\.schedule: invalid cron pattern "61 \* \* \* \*"/],
    ['a pattern of 4 fields', 'entries:\n  - name: web\n    context: .\n    schedule: "* * * *"\n', /^error: warm\.yaml:4: entries\[0\]\.schedule: "\* \* \* \*" has 4 fields/],
    ['a missing context', 'entries:\n  - name: web\n    schedule: "0 3 * * *"\n', /^error: warm\.yaml:2: entries\[0\]\.context: is required$/],
    ['a name used twice', 'entries:\n  - name: web\n    context: .\n    schedule: "0 3 * * *"\n  - name: web\n    context: .\n    schedule: "0 4 * * *"\n', /^error: warm\.yaml:5: entries\[1\]\.name: "web" is also the name of entries\[0\]$/],
    ['platforms not a list', 'entries:\n  - name: web\n    context: .\n    platforms: linux/amd64\n    schedule: "0 3 * * *"\n', /^error: warm\.yaml:4: entries\[0\]\.platforms: must be a list$/],
    ['a bad platform', 'entries:\n  - name: web\n    context: .\n    platforms: [linux/amd64, "linux/"]\n    schedule: "0 3 * * *"\n', /^error: warm\.yaml:4: entries\[0\]\.platforms: invalid platform "linux\/"/],
    ['a build argument that is a mapping', 'entries:\n  - name: web\n    context: .\n    args:\n      A: 1\n      B: { c: d }\n    schedule: "0 3 * * *"\n', /^error: warm\.yaml:6: entries\[0\]\.args\.B: must be a string$/],
    ['a URL that is not git', 'entries:\n  - name: web\n    context: ftp://example.com/src\n    schedule: "0 3 * * *"\n', /^error: warm\.yaml:3: entries\[0\]\.context: "ftp:\/\/example\.com\/src" is neither a path nor a git URL/],
    ['a git URL with a token', 'entries:\n  - name: web\n    context: https://bot:s3cret@example.com/org/app.git#main\n    schedule: "0 3 * * *"\n', /^error: warm\.yaml:3: entries\[0\]\.context: credentials in a git URL would be stored in Redis/],
    ['a YAML syntax error', 'entries:\n  - name: web\n    context: [.\n', /^error: warm\.yaml:4: /],
    ['no entries list', 'entry:\n  - name: web\n', /^error: warm\.yaml:1: entry: unknown field \(expected entries\)$/],
  ];
  for (const [what, text, expected] of cases) {
    it(`reports ${what} with the file, line and field, in one line, exit code 1`, () => {
      const r = runCli(['warm', '--config', warmFile(text)]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr.trimEnd(), expected);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.doesNotMatch(r.stderr, /s3cret/);
    });
  }

  it('stops a coordinator started with it, before it reaches Redis', () => {
    const r = runCli(['coordinator', '--listen', '127.0.0.1:0', '--redis', 'redis://127.0.0.1:1', '--warm', warmFile('entries:\n  - name: web\n    context: .\n    schedule: "0 3 * * 8"\n')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: warm\.yaml:4: entries\[0\]\.schedule: invalid cron pattern/);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  });

  it('resolves contexts against its own directory and keeps git URLs as they are', () => {
    const dir = tempDir('warm');
    const entries = parseWarmFile(warmFile('entries:\n  - name: web\n    context: ./app\n    dockerfile: docker/Dockerfile\n    platforms: [arm64]\n    schedule: "*/5 * * * * *"\n  - name: lib\n    context: https://example.com/org/lib.git#v1:src\n    schedule: "0 3 * * *"\n', dir));
    assert.deepEqual(entries, [
      { name: 'web', context: { type: 'path', dir: join(dir, 'app') }, dockerfile: 'docker/Dockerfile', targets: [], platforms: ['linux/arm64'], args: {}, schedule: '*/5 * * * * *' },
      { name: 'lib', context: { type: 'git', url: 'https://example.com/org/lib.git#v1:src' }, dockerfile: 'Dockerfile', targets: [], platforms: [], args: {}, schedule: '0 3 * * *' },
    ]);
  });
});

describe('dockyard warm', () => {
  before(() => requireTools());

  it('warms a fresh cache so that the build of the same entry is all cache hits', () => {
    const context = appContext();
    const cache = tempDir('warm-cache');
    const config = warmFile(`entries:\n${entry('web', context, '0 3 * * *')}`);
    const first = runCli(['warm', '--config', config, '--cache-dir', cache]);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout, 'web: 0/3 steps were warm, 3 built\n');

    const build = runCli(['build', '--progress', 'plain', '--cache-dir', cache, '--target', 'test', '--build-arg', 'GREETING=hello', context]);
    assert.equal(build.status, 0, build.stderr);
    const states = stepStates(build.stderr);
    assert.deepEqual(states.ran, [], 'no step runs after the warm run');
    assert.equal(states.cached.length, 3);

    const again = runCli(['warm', '--config', config, '--cache-dir', cache]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout, 'web: 3/3 steps were warm, 0 built\n');
  });

  it('fetches a git context at its ref, and reports an entry that fails without stopping the others', async () => {
    const root = tempDir('warm-git');
    const work = appContext();
    const git = (cwd: string, ...args: string[]): void => {
      const r = spawnSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    git(root, 'init', '-q', '--bare', 'app.git');
    git(work, 'init', '-q');
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', 'app');
    git(work, 'push', '-q', join(root, 'app.git'), 'HEAD:refs/heads/main');
    const port = await freePort();
    const daemon: ChildProcess = spawn('git', ['daemon', '--export-all', `--base-path=${root}`, '--listen=127.0.0.1', `--port=${port}`, '--reuseaddr', root], { stdio: 'ignore' });
    try {
      const url = `git://127.0.0.1:${port}/app.git`;
      for (let i = 0; spawnSync('git', ['ls-remote', url]).status !== 0; i++) {
        assert.ok(i < 200 && daemon.exitCode === null, 'git daemon serves the repository');
        await sleep(50);
      }
      const cache = tempDir('warm-cache');
      const config = warmFile(`entries:\n${entry('broken', './missing', '0 3 * * *')}${entry('web', `${url}#main`, '0 3 * * *')}`);
      const first = runCli(['warm', '--config', config, '--cache-dir', cache]);
      assert.equal(first.status, 1, 'an entry failed');
      assert.equal(first.stdout, 'web: 0/3 steps were warm, 3 built\n');
      assert.match(first.stderr, /^broken: error: context \S+\/missing is not a directory$/m);
      // The checkout has the files of the working tree: the build of that tree is all cache hits.
      const build = runCli(['build', '--progress', 'plain', '--cache-dir', cache, '--target', 'test', '--build-arg', 'GREETING=hello', work]);
      assert.equal(build.status, 0, build.stderr);
      assert.deepEqual(stepStates(build.stderr).ran, []);
    } finally {
      daemon.kill();
    }
  });
});

/** The coordinator's metrics text. */
async function metricsText(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return res.text();
}

/** Waits until `check` is true (each try after the last), failing after `tries`. */
async function until(what: string, check: () => Promise<boolean>, tries = 600): Promise<void> {
  for (let i = 0; !(await check()); i++) {
    assert.ok(i < tries, `timed out waiting until ${what}`);
    await sleep(100);
  }
}

describe('dockyard coordinator --warm', () => {
  let redis: TestRedis;
  let coordinator: FarmProcess & { address: string };
  let second: FarmProcess & { address: string };
  let worker: FarmProcess;
  let metricsPort: number;
  let config: string;
  let context: string;
  let warmQueue: Queue;

  before(async () => {
    requireTools();
    redis = await startRedis();
    context = appContext();
    config = warmFile(`entries:\n${entry('web', context, '* * * * * *')}${entry('nightly', context, '0 3 * * *')}`);
    warmQueue = new Queue('warm', { connection: { host: '127.0.0.1', port: redis.port }, prefix: DEFAULT_PREFIX });
    // A scheduler left by an older file: the coordinator's start removes it.
    const stale = new WarmSchedules({ redisUrl: redis.url });
    await stale.sync(parseWarmFile(warmFile(`entries:\n${entry('stale', context, '0 4 * * *')}`)));
    await stale.close();
    metricsPort = await freePort();
    coordinator = await startCoordinator(redis.url, ['--metrics', `127.0.0.1:${metricsPort}`, '--warm', config]);
    // A second coordinator with the same file, as a farm runs several: the schedulers stay one per entry.
    second = await startCoordinator(redis.url, ['--concurrency', '0', '--warm', config]);
    worker = await startWorker(coordinator.address);
  });

  after(async () => {
    await worker?.stop();
    await second?.stop();
    assert.equal(await coordinator?.stop(), 0, 'the coordinator exits 0 on SIGTERM');
    await warmQueue?.close();
    await redis?.stop();
  });

  const schedulers = async (): Promise<string[]> => (await warmQueue.getJobSchedulers(0, -1)).map((s) => String(s.id ?? s.key)).sort();

  it('registers one job scheduler per entry, whichever coordinators register them, and removes the others', async () => {
    assert.deepEqual(await schedulers(), ['nightly', 'web']);
    const web = (await warmQueue.getJobSchedulers(0, -1)).find((s) => (s.id ?? s.key) === 'web');
    assert.equal(web?.pattern, '* * * * * *');
  });

  it('fires the one-second scheduler: the warm build runs, and the next user build of the entry is all cache hits', async () => {
    await until('a warm run of web ended', async () => /dockyard_warm_last_success_timestamp_seconds\{entry="web"\} \d+/.test(await metricsText(metricsPort)));
    const r = runCli(['build', '--builder', coordinator.address, '--progress', 'plain', '--target', 'test', '--build-arg', 'GREETING=hello', context]);
    assert.equal(r.status, 0, r.stderr);
    const states = stepStates(r.stderr);
    assert.deepEqual(states.ran, [], 'every step was warm');
    assert.equal(states.cached.length, 3);
  });

  it('warms through --builder with dockyard warm, and prints the coverage', () => {
    const r = runCli(['warm', '--config', config, '--builder', coordinator.address]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'web: 3/3 steps were warm, 0 built\nnightly: 3/3 steps were warm, 0 built\n');
  });

  it('shows each entry\'s coverage and last warm time on the metrics endpoint', async () => {
    const before = Math.floor(Date.now() / 1000);
    // The runs after the first find every step warm.
    await until('a fully warm run of web', async () => {
      const text = await metricsText(metricsPort);
      const at = Number(/dockyard_warm_last_success_timestamp_seconds\{entry="web"\} (\d+)/.exec(text)?.[1] ?? 0);
      return at >= before && /dockyard_warm_coverage_ratio\{entry="web"\} 1\n/.test(text);
    });
    const text = await metricsText(metricsPort);
    assert.match(text, /dockyard_warm_steps\{entry="web",state="warm"\} 3\n/);
    assert.match(text, /dockyard_warm_steps\{entry="web",state="built"\} 0\n/);
    assert.match(text, /dockyard_warm_runs_total\{entry="web",outcome="warmed"\} [1-9]/);
    assert.doesNotMatch(text, /entry="nightly"/, 'an entry that has not run yet has no figures');
  });

  it('keeps its schedulers when the file it reloads on SIGHUP has a mistake, and logs it', async () => {
    writeFileSync(config, `entries:\n${entry('web', context, '* * * * * *')}    bogus: 1\n`);
    coordinator.child.kill('SIGHUP');
    await until('the reload is refused', async () => coordinator.stderr().includes('warm-up file not reloaded'));
    assert.match(coordinator.stderr(), /"msg":"warm-up file not reloaded".*"error":"warm\.yaml:8: entries\[0\]\.bogus: unknown field/);
    assert.deepEqual(await schedulers(), ['nightly', 'web']);
  });

  it('removes the scheduler of an entry deleted from the file on SIGHUP', async () => {
    writeFileSync(config, `entries:\n${entry('web', context, '* * * * * *')}`);
    coordinator.child.kill('SIGHUP');
    await until('the nightly scheduler is gone', async () => (await schedulers()).join() === 'web');
    assert.match(coordinator.stderr(), /"msg":"warm-up schedules registered".*"entries":"web","removed":"nightly"/);
  });
});

describe('a warm run on the farm queue', () => {
  let redis: TestRedis;
  let queue: BuildQueue;
  let runner: WarmRunner;

  before(async () => {
    redis = await startRedis();
    queue = new BuildQueue({ redisUrl: redis.url });
    const client = redis.connect();
    runner = new WarmRunner({
      redisUrl: redis.url,
      name: 'test',
      queue,
      store: new FsBlobStore(tempDir('store')),
      events: new BuildEventLog(client, DEFAULT_PREFIX),
      status: new WarmStatusStore(client, DEFAULT_PREFIX),
      scratchDir: tempDir('warm-scratch'),
      log: new JsonLog({ write: () => true } as unknown as NodeJS.WritableStream),
    });
  });

  after(async () => {
    await runner?.close();
    await queue?.close();
    await redis?.stop();
  });

  it('queues a cache-only build at the lowest priority, and skips the entry while that build has not finished', async () => {
    // No coordinator takes builds here: the warm build stays queued.
    const [web] = parseWarmFile(warmFile(`entries:\n${entry('web', makeDir({ Dockerfile: 'FROM scratch\nCOPY Dockerfile /\n' }), '0 3 * * *')}`));
    const first = runner.run(web!);
    first.catch(() => undefined);
    let id = '';
    await until('the warm build is queued', async () => {
      id = (await queue.list(['waiting']))[0]?.id ?? '';
      return id !== '';
    });
    const queued = (await queue.inspect(id))!;
    assert.equal(queued.data.priority, MAX_PRIORITY, 'after every user build');
    assert.equal(queued.data.tenant, 'warm');
    assert.deepEqual(queued.data.request.outputs, [], 'no export, no push');
    assert.equal(queued.data.request.target, 'test');
    assert.deepEqual(queued.data.request.buildArgs, { GREETING: 'hello' });

    assert.deepEqual(await runner.run(web!), { kind: 'skipped', running: id });
    assert.equal((await queue.list(['waiting'])).length, 1, 'nothing more was queued');
  });
});
