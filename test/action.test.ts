import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { actionEntry, runAction } from './action-helpers.js';
import { busyboxLayout, requireTools, unpack } from './engine-helpers.js';
import { startCoordinator, startWorker, type FarmProcess } from './farm-helpers.js';
import { makeDir, runCli, tempDir } from './helpers.js';
import type { ProgressRecord } from '../coordinator/progress/progress.js';
import { startRedis, type TestRedis } from './redis-helpers.js';
import { startRegistry, type TestRegistry } from './registry-helpers.js';
import { generatedKeyPair, PASSWORD } from './signing-helpers.js';

function skopeoInspect(ref: string): { Digest: string; RepoTags: string[]; Labels: Record<string, string> | null } {
  const r = spawnSync('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { Digest: string; RepoTags: string[]; Labels: Record<string, string> | null };
}

/** The pushed image's filesystem, read by skopeo and umoci. */
function pulledFile(ref: string, path: string): string {
  const out = tempDir('pulled');
  const r = spawnSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${out}:img`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(join(unpack(out, 'img'), 'rootfs', path), 'utf8');
}

/** The rows of the summary's step table: step name -> [cache, reason]. */
function stepTable(summary: string): Map<string, [string, string]> {
  const rows = new Map<string, [string, string]>();
  for (const m of summary.matchAll(/^\| \d+ \| (.+?) \| (hit|miss|ran|error) \| (.*?) \| (\d+\.\ds)? \|$/gm)) rows.set(m[1]!, [m[2]!, m[3]!]);
  return rows;
}

describe('the GitHub Action, run as the runner runs it', () => {
  let registry: TestRegistry;
  let base: string;
  before(async () => {
    requireTools();
    base = `busybox=oci-layout://${busyboxLayout()}`;
    registry = await startRegistry();
  });
  after(() => registry?.stop());

  it('builds and pushes with list inputs as build-push-action reads them; digest is the registry\'s; the summary tables steps and tags', () => {
    const workspace = makeDir({
      'app/Dockerfile': 'FROM busybox\nARG LIST\nARG MULTI\nRUN printf "%s|%s" "$LIST" "$MULTI" > /args\nRUN echo second > /second\n',
    });
    const cache = tempDir('action-cache');
    const inputs = {
      context: 'app',
      'build-contexts': base,
      'build-args': 'LIST=a,b,c\n"MULTI=one\ntwo"\nSOURCE_DATE_EPOCH=1700000000',
      labels: 'org.opencontainers.image.title=demo\norg.opencontainers.image.description=fast, cached, and daemonless',
      tags: `${registry.host}/action/app:1, ${registry.host}/action/app:latest`,
      push: 'true',
      'cache-dir': cache,
    };
    const r = runAction(inputs, { workspace });
    assert.equal(r.status, 0, r.stdout + r.stderr);

    const digest = r.outputs.get('digest')!;
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    const inspect = skopeoInspect(`${registry.host}/action/app:1`);
    assert.equal(inspect.Digest, digest, 'the digest output is the manifest the registry holds');
    assert.deepEqual(inspect.RepoTags.sort(), ['1', 'latest']);
    assert.deepEqual(inspect.Labels, { 'org.opencontainers.image.title': 'demo', 'org.opencontainers.image.description': 'fast, cached, and daemonless' });
    assert.equal(pulledFile(`${registry.host}/action/app:latest`, 'args'), 'a,b,c|one\ntwo');
    const metadata = JSON.parse(r.outputs.get('metadata')!) as Record<string, unknown>;
    assert.equal(metadata['containerimage.digest'], digest);
    assert.equal(r.outputs.get('imageid'), metadata['containerimage.config.digest']);

    assert.match(r.stdout, /^::group::stage stage-0\n#\d+ \[stage-0 1\/3\] FROM busybox\n/m, 'progress folded by stage');
    assert.match(r.stdout, /^::endgroup::$/m);
    assert.ok(!/^\{/m.test(r.stdout), 'no raw progress record reaches the log');
    const steps = stepTable(r.summary);
    assert.deepEqual(steps.get('[stage-0 2/3] RUN printf "%s\\|%s" "$LIST" "$MULTI" > /args'), ['miss', 'not built before: nothing cached for this step yet'], 'a pipe in a step is escaped in its cell');
    assert.match(r.summary, /^- Cache: 0 of 3 steps cached \(0%\)$/m);
    assert.match(r.summary, /^## Dockyard build succeeded$/m);
    assert.match(r.summary, /^\| # \| Step \| Cache \| Reason \| Duration \|$/m);
    assert.ok(r.summary.includes(`| ${registry.host}/action/app:1 | \`${digest}\` |`) && r.summary.includes(`| ${registry.host}/action/app:latest | \`${digest}\` |`), r.summary);

    // Again: every step from the cache, the same digest, and the summary says so.
    const again = runAction(inputs, { workspace });
    assert.equal(again.status, 0, again.stdout + again.stderr);
    assert.equal(again.outputs.get('digest'), digest);
    assert.deepEqual([...stepTable(again.summary).values()].filter(([cache]) => cache !== 'ran'), [['hit', ''], ['hit', ''], ['hit', '']]);
    assert.match(again.summary, /^- Cache: 3 of 3 steps cached \(100%\)$/m);
  });

  it('reads the CLI\'s --progress rawjson: one record a line, each step started then cached, done or failed', () => {
    const dir = makeDir({ Dockerfile: 'FROM busybox\nRUN echo raw-out\n' });
    const r = runCli(['build', '--progress', 'rawjson', '--cache-dir', tempDir('rawjson-cache'), '--build-context', base, dir]);
    assert.equal(r.status, 0, r.stderr);
    const records = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as ProgressRecord);
    const run = records.find((x) => x.event === 'started' && x.name === '[stage-0 2/2] RUN echo raw-out')!;
    const events = records.filter((x) => x.vertex === run.vertex).map((x) => x.event);
    assert.deepEqual(events, ['started', 'note', 'log', 'done']);
    const log = records.find((x) => x.vertex === run.vertex && x.event === 'log');
    assert.equal(log?.event === 'log' ? log.line : undefined, 'raw-out');
    assert.ok(records.every((x) => !Number.isNaN(Date.parse(x.time))));
  });

  it('builds the platforms of a comma-separated list into one index, whose digest is the output and the registry\'s', () => {
    const workspace = makeDir({ Dockerfile: 'FROM busybox\nARG TARGETARCH\nRUN echo $TARGETARCH > /arch\n' });
    const ref = `${registry.host}/action/multi:1`;
    const r = runAction({ 'build-contexts': base, platforms: 'linux/amd64,linux/arm64', tags: ref, push: 'true' }, { workspace });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const raw = spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' });
    const index = JSON.parse(raw.stdout) as { mediaType: string; manifests: { platform: { architecture: string } }[] };
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(index.manifests.map((m) => m.platform.architecture), ['amd64', 'arm64']);
    assert.equal(skopeoInspect(ref).Digest, r.outputs.get('digest'));
    assert.equal(r.outputs.get('imageid'), r.outputs.get('digest'), 'several platforms: the image ID is the index, as buildx gives it');
    assert.match(r.stdout, /^::group::stage stage-0 linux\/arm64$/m, 'one group per stage and platform');
  });

  it('signs what it pushes with sign, cosign-key (the PEM text) and cosign-password; dockyard verify accepts it', () => {
    const keys = generatedKeyPair();
    const workspace = makeDir({ Dockerfile: 'FROM busybox\nRUN echo signed > /s\n' });
    const ref = `${registry.host}/action/signed:1`;
    const r = runAction({ 'build-contexts': base, tags: ref, push: 'true', sign: 'true', 'cosign-key': readFileSync(keys.key, 'utf8'), 'cosign-password': PASSWORD }, { workspace });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    // Both appear once, in the runner's mask commands, which it consumes and never shows.
    assert.equal(r.stdout.split(PASSWORD).length - 1, 1, 'the password appears only in the mask command');
    assert.equal(r.stdout.split('-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----').length - 1, 1, 'the key appears only in the mask command');
    assert.match(r.stdout, /^::add-mask::-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----/m);
    assert.ok(!r.summary.includes(PASSWORD) && !r.summary.includes('PRIVATE KEY'));
    const v = runCli(['verify', '--key', keys.pub, `${registry.host}/action/signed@${r.outputs.get('digest')!}`]);
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout.split('\n').filter(Boolean).length, 2, v.stdout);
  });

  it('exports its cache with cache-to type=local, and a fresh runner importing it with cache-from runs no step', () => {
    const workspace = makeDir({ Dockerfile: 'FROM busybox\nRUN echo cached-across-runs > /c\nRUN echo more > /m\n' });
    const dir = tempDir('action-gha-like-cache');
    const epoch = 'SOURCE_DATE_EPOCH=1700000000';
    const first = runAction({ 'build-contexts': base, 'build-args': epoch, 'cache-dir': tempDir('runner-a'), 'cache-to': `type=local,dest=${dir},mode=max` }, { workspace });
    assert.equal(first.status, 0, first.stdout + first.stderr);
    const second = runAction({ 'build-contexts': base, 'build-args': epoch, 'cache-dir': tempDir('runner-b'), 'cache-from': `type=local,src=${dir}` }, { workspace });
    assert.equal(second.status, 0, second.stdout + second.stderr);
    assert.equal(second.outputs.get('digest'), first.outputs.get('digest'));
    assert.match(second.summary, /^- Cache: 3 of 3 steps cached \(100%\)$/m);
  });

  it('sets the digest without a push, and writes no summary when asked not to', () => {
    const workspace = makeDir({ Dockerfile: 'FROM busybox\nRUN echo local > /x\n' });
    const r = runAction({ 'build-contexts': base, summary: 'false' }, { workspace });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.outputs.get('digest')!, /^sha256:[0-9a-f]{64}$/);
    assert.equal(r.summary, '');
  });

  it('masks secrets and gives them to RUN --mount=type=secret, never to the log', () => {
    const value = 'open-sesame-4f1c';
    const workspace = makeDir({ Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=inline --mount=type=secret,id=fromenv --mount=type=secret,id=fromfile cat /run/secrets/inline /run/secrets/fromenv /run/secrets/fromfile | sha256sum > /sum\n', 'key.txt': 'file-part' });
    const out = tempDir('action-secret-out');
    const r = runAction({ 'build-contexts': base, secrets: `"inline=${value}\nline2"`, 'secret-envs': 'fromenv=PART_ENV', 'secret-files': 'fromfile=key.txt', outputs: `type=local,dest=${out}` }, { workspace, env: { PART_ENV: 'env-part' } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const expected = spawnSync('sha256sum', { input: `${value}\nline2env-partfile-part`, encoding: 'utf8' }).stdout;
    assert.equal(readFileSync(join(out, 'sum'), 'utf8'), expected);
    assert.match(r.stdout, new RegExp(`^::add-mask::${value}%0Aline2$`, 'm'));
    assert.equal(r.stdout.split(value).length - 1, 1, 'the value appears only in the mask command');
  });

  it('annotates the failing Dockerfile line, and the summary says the build failed', () => {
    const workspace = makeDir({ 'svc/Dockerfile': 'FROM busybox\nRUN echo fine\nRUN echo broken >&2 && echo ::error::forged && exit 3\n' });
    const r = runAction({ context: 'svc', 'build-contexts': base }, { workspace });
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^::error title=Dockerfile error,file=svc\/Dockerfile,line=3::RUN echo broken >&2 && echo ::error::forged && exit 3: .*exit code: 3$/m);
    assert.match(r.stdout, /broken/, 'the step\'s output is in the log');
    assert.ok(!/^::error::forged/m.test(r.stdout), 'the step\'s output cannot issue workflow commands');
    assert.match(r.summary, /^## Dockyard build failed$/m);
    assert.match(r.summary, /\] RUN echo broken >&2 && echo ::error::forged && exit 3 \| error \| process .*exit code: 3 \| \d+\.\ds \|$/m);
    assert.equal(r.outputs.has('digest'), false);
  });

  it('annotates a Dockerfile syntax error on its line', () => {
    const workspace = makeDir({ Dockerfile: 'FROM busybox\n\nCOPPY a b\n' });
    const r = runAction({ 'build-contexts': base }, { workspace });
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^::error title=Dockerfile error,file=Dockerfile,line=3::.*(COPPY|coppy).*$/m);
  });

  it('fails an input it cannot honour by name, before building', () => {
    const workspace = makeDir({ Dockerfile: 'FROM busybox\n' });
    const r = runAction({ network: 'host', 'build-contexts': base }, { workspace });
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^::error::input network: not supported: Dockyard has no --network yet/m);
    assert.equal(r.outputs.size, 0);
  });

  it('as a runner user that is not root, runs the local build through sudo, and says so when there is none', () => {
    const workspace = makeDir({ Dockerfile: 'FROM busybox\n' });
    const runner = tempDir('nobody-runner');
    chmodSync(runner, 0o777);
    chmodSync(workspace, 0o755);
    const files = { GITHUB_OUTPUT: join(runner, 'output'), GITHUB_STEP_SUMMARY: join(runner, 'summary.md') };
    for (const f of Object.values(files)) {
      writeFileSync(f, '');
      chmodSync(f, 0o666);
    }
    // A PATH with the engine's tools but no sudo (node itself is started by its path).
    const tools = join(runner, 'bin');
    mkdirSync(tools);
    for (const tool of ['runc', 'getfattr', 'setfattr']) symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(tools, tool));
    const env = { PATH: tools, HOME: runner, RUNNER_TEMP: runner, GITHUB_WORKSPACE: workspace, ...files };
    const setpriv = spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).stdout.trim();
    const r = spawnSync(setpriv, ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, actionEntry()], { cwd: workspace, env, encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^::error::cannot start sudo: spawn sudo ENOENT \(a local build needs root: run the job as root, install sudo, or build on a farm with builder\)$/m);
    assert.match(readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'), /^## Dockyard build failed$/m);
  });

  it('fails a local build at once, naming the system tools the runner lacks and their packages', () => {
    const workspace = makeDir({ Dockerfile: 'FROM busybox\n' });
    const r = runAction({ 'build-contexts': base }, { workspace, env: { PATH: tempDir('empty-path') } });
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^::error::a local build needs runc, getfattr, setfattr on the runner: install them first \(sudo apt-get install -y runc attr\), or build on a farm with builder$/m);
  });

  describe('on a build farm started by the test', () => {
    let redis: TestRedis;
    let coordinator: FarmProcess & { address: string };
    let worker: FarmProcess;
    const token = 'farm-token-9d2e';
    before(async () => {
      redis = await startRedis();
      coordinator = await startCoordinator(redis.url, [], { DOCKYARD_TOKEN: token });
      worker = await startWorker(coordinator.address, [], { DOCKYARD_TOKEN: token });
    });
    after(async () => {
      await worker?.stop();
      await coordinator?.stop();
      await redis?.stop();
    });

    it('builds with builder and builder-token, pushes, and outputs the digest the registry holds', () => {
      const workspace = makeDir({ Dockerfile: 'FROM busybox\nRUN echo on-the-farm > /where\n' });
      const r = runAction({ builder: coordinator.address, 'builder-token': token, 'build-contexts': base, tags: `${registry.host}/action/farm:1`, push: 'true' }, { workspace, env: { DOCKYARD_TOKEN: '' } });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.equal(skopeoInspect(`${registry.host}/action/farm:1`).Digest, r.outputs.get('digest'));
      assert.equal(pulledFile(`${registry.host}/action/farm:1`, 'where'), 'on-the-farm\n');
      assert.match(r.stdout, new RegExp(`^::add-mask::${token}$`, 'm'));
      assert.match(r.summary, new RegExp(`^Built on the farm at \`${coordinator.address}\`\\.$`, 'm'));
      assert.match(r.summary, /\| \[stage-0 2\/2\] RUN echo on-the-farm > \/where \| miss \| /);
    });

    it('fails with the farm\'s refusal when the token is wrong', () => {
      const workspace = makeDir({ Dockerfile: 'FROM busybox\n' });
      const r = runAction({ builder: coordinator.address, 'builder-token': 'wrong', 'build-contexts': base }, { workspace, env: { DOCKYARD_TOKEN: '' } });
      assert.equal(r.status, 1);
      assert.match(r.stdout, /^::error::.*(token|unauthenticated|Unauthenticated).*$/m);
    });
  });
});
