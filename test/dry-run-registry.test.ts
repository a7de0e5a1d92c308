import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { busyboxLayout, freshCache, inspectConfig, requireTools } from './engine-helpers.js';
import { makeDir, runCli, tempDir } from './helpers.js';
import { startRegistry, type TestRegistry } from './registry-helpers.js';

interface JsonPlan {
  unresolved: unknown[];
  targets: { stages: { unresolved?: boolean; steps: { instruction: string; key?: string }[] }[]; image: { config: Record<string, unknown> } }[];
  steps: { key: string; kind: string; source?: { type: string; digest?: string } }[];
}

/** A base whose config sets everything a base can hand down, ONBUILD trigger included. */
const baseDockerfile = `FROM busybox
ENV BASE_ENV=from-base
WORKDIR /srv
USER root
LABEL org.example.base=yes
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /srv/out.txt"]
ONBUILD RUN echo triggered > /onbuild.txt
`;

describe('dry-run resolves bases from a registry as a build does', () => {
  let registry: TestRegistry;
  let configBlob: string;
  before(() => {
    requireTools();
  });
  before(async () => {
    registry = await startRegistry();
    const base = makeDir({ Dockerfile: baseDockerfile });
    const pushed = runCli(['build', '--progress', 'quiet', '--cache-dir', freshCache(), '--build-context', `busybox=oci-layout://${busyboxLayout()}`, '--platform', 'linux/amd64', '-t', `${registry.host}/base:1`, '--push', base]);
    assert.equal(pushed.status, 0, pushed.stderr);
    const raw = spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/base:1`], { encoding: 'utf8' });
    assert.equal(raw.status, 0, raw.stderr);
    configBlob = (JSON.parse(raw.stdout) as { config: { digest: string } }).config.digest;
  });
  after(() => registry?.stop());

  it('plans the base\'s config and ONBUILD trigger, and keys every step as the build records it', () => {
    // The registry serves blobs over plain HTTP: an ADD URL whose content the plan must hash.
    const dir = makeDir({
      Dockerfile: `FROM ${registry.host}/base:1\nRUN echo "$BASE_ENV" > out.txt\nADD http://${registry.host}/v2/base/blobs/${configBlob} /config.json\nCOPY app.txt /app/\n`,
      'app.txt': 'app\n',
    });
    const dry = runCli(['build', '--dry-run', '--format', 'json', '--platform', 'linux/amd64', dir]);
    assert.equal(dry.status, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout) as JsonPlan;
    const target = plan.targets[0]!;
    assert.ok(target.stages[0]!.steps.some((s) => s.instruction === 'RUN echo triggered > /onbuild.txt' && s.key), 'the trigger is a planned step');
    const planned = target.image.config;
    assert.deepEqual(planned.Entrypoint, ['/bin/sh', '-c']);
    assert.deepEqual(planned.Cmd, ['cat /srv/out.txt']);
    assert.equal(planned.WorkingDir, '/srv');
    assert.equal(planned.User, 'root');
    assert.deepEqual(planned.Labels, { 'org.example.base': 'yes' });
    assert.ok((planned.Env as string[]).includes('BASE_ENV=from-base'));
    assert.deepEqual(plan.unresolved, []);
    assert.equal(target.stages[0]!.unresolved, undefined);

    const cache = freshCache();
    const layout = join(tempDir('out'), 'layout');
    const built = runCli(['build', '--progress', 'plain', '--cache-dir', cache, '--platform', 'linux/amd64', '-t', 'test:latest', '-o', `type=oci,dest=${layout},tar=false`, dir]);
    assert.equal(built.status, 0, built.stderr);
    // Every step the build runs leaves a record under its key; the plan's keys must be those.
    const recorded = new Set(readdirSync(join(cache, 'index')).filter((n) => n.endsWith('.json')).map((n) => `sha256:${n.slice(0, -5)}`));
    const keyed = plan.steps.filter((s) => !(s.kind === 'source' && (s.source?.type === 'context' || s.source?.type === 'http')));
    assert.equal(keyed.length, 5, 'image, trigger RUN, RUN, ADD, COPY');
    for (const s of keyed) assert.ok(recorded.has(s.key), `planned ${s.kind} step ${s.key} is not what the build recorded`);
    assert.deepEqual(inspectConfig(layout).config, planned, 'the planned config is the built one');
  });

  it('resolves named contexts as a build does: docker-image:// from the registry, oci-layout:// locally even offline', () => {
    const dir = makeDir({ Dockerfile: 'FROM base AS app\nRUN true\nFROM busybox\nCOPY --from=app /onbuild.txt /\n' });
    const contexts = ['--build-context', `base=docker-image://${registry.host}/base:1`, '--build-context', `busybox=oci-layout://${busyboxLayout()}`];
    const online = runCli(['build', '--dry-run', '--format', 'json', '--platform', 'linux/amd64', ...contexts, dir]);
    assert.equal(online.status, 0, online.stderr);
    const plan = JSON.parse(online.stdout) as JsonPlan;
    assert.deepEqual(plan.unresolved, []);
    assert.ok(plan.targets[0]!.stages[0]!.steps.some((s) => s.instruction === 'RUN echo triggered > /onbuild.txt'), 'the trigger of the docker-image base runs');
    assert.deepEqual(plan.targets[0]!.image.config.Cmd, ['sh'], 'the layout base\'s CMD');
    const offline = runCli(['build', '--dry-run', '--offline', '--format', 'json', '--platform', 'linux/amd64', ...contexts, dir]);
    assert.equal(offline.status, 0, offline.stderr);
    const p2 = JSON.parse(offline.stdout) as JsonPlan;
    assert.deepEqual(p2.targets[0]!.stages.map((s) => s.unresolved), [true, undefined], 'only the registry base is unresolved');
    assert.deepEqual(p2.targets[0]!.image.config.Cmd, ['sh']);
  });

  it('with --offline, an ADD --checksum URL keeps the key that fetching it gives', () => {
    const dir = makeDir({ Dockerfile: `FROM scratch\nADD --checksum=${configBlob} http://${registry.host}/v2/base/blobs/${configBlob} /config.json\n` });
    const keys = (extra: string[]): string[] => {
      const r = runCli(['build', '--dry-run', ...extra, '--format', 'json', dir]);
      assert.equal(r.status, 0, r.stderr);
      const plan = JSON.parse(r.stdout) as JsonPlan;
      assert.deepEqual(plan.unresolved, []);
      return plan.steps.map((s) => s.key);
    };
    assert.deepEqual(keys(['--offline']), keys([]));
  });

  it('with --offline, the same Dockerfile marks the base unresolved and lacks its config', () => {
    const dir = makeDir({ Dockerfile: `FROM ${registry.host}/base:1\nRUN true\n` });
    const r = runCli(['build', '--dry-run', '--offline', '--format', 'json', '--platform', 'linux/amd64', dir]);
    assert.equal(r.status, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as JsonPlan;
    assert.equal(plan.targets[0]!.stages[0]!.unresolved, true);
    assert.equal(plan.unresolved.length, 1);
    assert.equal(plan.targets[0]!.image.config.WorkingDir, undefined);
  });
});
