import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DockerfileError } from '../coordinator/dockerfile/errors.js';
import type { Step } from '../coordinator/plan/graph.js';
import type { ImageResolver } from '../coordinator/plan/plan-types.js';
import { sha256 } from '../oci/digest.js';
import type { ImageConfig } from '../oci/image.js';
import { formatPlatform, parsePlatform } from '../oci/platform.js';
import { imageConfig, makeDir, plan, stepAt } from './helpers.js';

const execOf = (s: Step) => {
  assert.equal(s.kind, 'exec');
  return (s as Extract<Step, { kind: 'exec' }>).exec;
};
const args = (entries: Record<string, string>) => new Map(Object.entries(entries));

describe('ARG and ENV scoping', () => {
  it('global ARGs reach FROM lines but not stages until re-declared', async () => {
    const p = await plan('ARG IMG=alpine\nARG TAG=3.19\nFROM $IMG:${TAG}\nRUN echo $TAG\nARG TAG\nRUN echo $TAG\n');
    assert.equal(p.targets[0]!.stages[0]!.base, 'alpine:3.19');
    const before = execOf(stepAt(p, 4));
    const after = execOf(stepAt(p, 6));
    assert.ok(!before.env.some((e) => e.startsWith('TAG=')));
    assert.ok(after.env.includes('TAG=3.19'));
  });

  it('stage ARGs apply from their line onward and --build-arg overrides defaults', async () => {
    const df = 'FROM busybox\nRUN echo 1\nARG MODE=debug\nRUN echo $MODE\nWORKDIR /$MODE\n';
    const p = await plan(df);
    assert.ok(!execOf(stepAt(p, 2)).env.some((e) => e.startsWith('MODE=')));
    assert.ok(execOf(stepAt(p, 4)).env.includes('MODE=debug'));
    assert.equal(imageConfig(p).WorkingDir, '/debug');
    const q = await plan(df, { buildArgs: args({ MODE: 'release' }) });
    assert.ok(execOf(stepAt(q, 4)).env.includes('MODE=release'));
    assert.equal(imageConfig(q).WorkingDir, '/release');
    // The step before the ARG is untouched by the build arg; the ones after change.
    assert.equal(stepAt(p, 2).key, stepAt(q, 2).key);
    assert.notEqual(stepAt(p, 4).key, stepAt(q, 4).key);
  });

  it('ENV overrides an ARG of the same name and ARGs stay out of the image Env', async () => {
    const p = await plan('FROM busybox\nARG V=from-arg\nENV V=from-env\nRUN echo\nENV W=$V\n');
    const env = execOf(stepAt(p, 4)).env;
    assert.ok(env.includes('V=from-env'));
    assert.ok(!env.includes('V=from-arg'));
    assert.deepEqual(imageConfig(p).Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'V=from-env', 'W=from-env']);
  });

  it('applies build args only to declared ARGs and warns about the rest', async () => {
    const p = await plan('FROM busybox\nARG USED\nRUN echo $NOTDECLARED\n', { buildArgs: args({ USED: '1', NOTDECLARED: 'x', OTHER: 'y' }) });
    assert.ok(!execOf(stepAt(p, 3)).env.some((e) => e.startsWith('NOTDECLARED')));
    const w = p.warnings.map((x) => x.message).join('\n');
    assert.match(w, /\[NOTDECLARED OTHER\] were not consumed/);
    assert.doesNotMatch(w, /USED\b.*not consumed/);
  });

  it('provides the platform ARGs, in FROM without declaration and in stages once declared', async () => {
    const df = 'FROM --platform=$BUILDPLATFORM busybox:$TARGETARCH AS b\nARG TARGETPLATFORM\nARG TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM BUILDOS BUILDARCH BUILDVARIANT TARGETSTAGE\nRUN echo\n';
    const p = await plan(df, { platforms: [parsePlatform('linux/arm/v7')] });
    const t = p.targets[0]!;
    assert.equal(t.stages[0]!.base, 'busybox:arm');
    assert.equal(t.stages[0]!.platform, 'linux/amd64');
    const env = execOf(stepAt(p, 4)).env;
    for (const kv of ['TARGETPLATFORM=linux/arm/v7', 'TARGETOS=linux', 'TARGETARCH=arm', 'TARGETVARIANT=v7', 'BUILDPLATFORM=linux/amd64', 'BUILDOS=linux', 'BUILDARCH=amd64', 'BUILDVARIANT=', 'TARGETSTAGE=b']) {
      assert.ok(env.includes(kv), `missing ${kv} in ${env.join(' ')}`);
    }
    const undeclared = await plan('FROM busybox\nRUN echo $TARGETARCH\n');
    assert.ok(!execOf(stepAt(undeclared, 2)).env.some((e) => e.startsWith('TARGETARCH')));
  });

  it('passes proxy ARGs to no key and no history, even when declared', async () => {
    const df = 'FROM busybox\nARG HTTP_PROXY\nRUN wget http://example.com/\n';
    const plain = await plan(df);
    const proxied = await plan(df, { buildArgs: args({ HTTP_PROXY: 'http://user:pw@proxy:3128', no_proxy: 'localhost' }) });
    assert.equal(stepAt(plain, 3).key, stepAt(proxied, 3).key);
    assert.ok(!JSON.stringify(proxied).includes('user:pw'), 'proxy value leaked into the plan');
    assert.deepEqual(proxied.proxyArgs.sort(), ['HTTP_PROXY', 'no_proxy']);
    assert.equal(proxied.warnings.length, 0);
  });

  it('takes SOURCE_DATE_EPOCH without declaration and rejects a non-number', async () => {
    const p = await plan('FROM busybox\nRUN date\n', { buildArgs: args({ SOURCE_DATE_EPOCH: '1700000000' }) });
    assert.equal(p.sourceDateEpoch, 1700000000);
    assert.ok(execOf(stepAt(p, 2)).env.includes('SOURCE_DATE_EPOCH=1700000000'));
    assert.equal(p.warnings.length, 0);
    await assert.rejects(plan('FROM busybox\n', { buildArgs: args({ SOURCE_DATE_EPOCH: 'yesterday' }) }), /invalid SOURCE_DATE_EPOCH/);
  });

  it('expands in the instructions Docker expands, and not in RUN, CMD or ENTRYPOINT', async () => {
    const df = [
      'FROM busybox',
      'ARG D=/data U=app P=8080 S=SIGINT L=v1',
      'ENV HOME_DIR=$D/home',
      'LABEL version=$L "quoted key"="a b"',
      'EXPOSE $P ${P}/udp',
      'VOLUME $D',
      'USER $U',
      'STOPSIGNAL $S',
      'WORKDIR ${D}/work',
      'RUN echo $D',
      'CMD echo $D',
      'ENTRYPOINT ["echo", "$D"]',
    ].join('\n');
    const p = await plan(df);
    const c = imageConfig(p);
    assert.ok((c.Env as string[]).includes('HOME_DIR=/data/home'));
    assert.deepEqual(c.Labels, { version: 'v1', 'quoted key': 'a b' });
    assert.deepEqual(c.ExposedPorts, { '8080/tcp': {}, '8080/udp': {} });
    assert.deepEqual(c.Volumes, { '/data': {} });
    assert.equal(c.User, 'app');
    assert.equal(c.StopSignal, 'SIGINT');
    assert.equal(c.WorkingDir, '/data/work');
    assert.deepEqual(execOf(stepAt(p, 10)).args, ['/bin/sh', '-c', 'echo $D']);
    assert.deepEqual(c.Entrypoint, ['echo', '$D']);
    // CMD was set in this stage, so the later ENTRYPOINT keeps it; neither is expanded.
    assert.deepEqual(c.Cmd, ['/bin/sh', '-c', 'echo $D']);
  });
});

describe('image config', () => {
  it('gives every field its OCI/Docker name and value', async () => {
    const df = [
      'FROM scratch',
      'MAINTAINER Jane',
      'SHELL ["/bin/ash", "-eo", "pipefail", "-c"]',
      'ENV A=1',
      'CMD run me',
      'ENTRYPOINT ["/init"]',
      'WORKDIR app',
      'USER 1000:1000',
      'EXPOSE 80 443/tcp 53/udp',
      'VOLUME ["/v1", "/v2"]',
      'LABEL org.opencontainers.image.title=demo',
      'STOPSIGNAL SIGQUIT',
      'HEALTHCHECK --interval=5s --retries=2 CMD wget -q localhost',
      'ONBUILD RUN echo child',
      'CMD ["serve"]',
    ].join('\n');
    const p = await plan(df, { labels: args({ extra: 'yes' }) });
    const image = p.targets[0]!.image;
    assert.equal(image.author, 'Jane');
    assert.equal(image.architecture, 'amd64');
    assert.equal(image.os, 'linux');
    assert.deepEqual(image.config, {
      Shell: ['/bin/ash', '-eo', 'pipefail', '-c'],
      Cmd: ['serve'],
      Entrypoint: ['/init'],
      WorkingDir: '/app',
      User: '1000:1000',
      ExposedPorts: { '80/tcp': {}, '443/tcp': {}, '53/udp': {} },
      Volumes: { '/v1': {}, '/v2': {} },
      Labels: { 'org.opencontainers.image.title': 'demo', extra: 'yes' },
      StopSignal: 'SIGQUIT',
      Healthcheck: { Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 5e9, Retries: 2 },
      OnBuild: ['RUN echo child'],
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1'],
    });
    // Only WORKDIR makes a layer here; the rest are config-only history entries.
    assert.deepEqual(image.history!.filter((h) => !h.empty_layer).map((h) => h.created_by), ['WORKDIR /app']);
  });

  it('runs shell-form commands through the current SHELL', async () => {
    const p = await plan('FROM busybox\nSHELL ["/bin/bash", "-c"]\nRUN echo hi\nCMD serve --port 1\n');
    assert.deepEqual(execOf(stepAt(p, 3)).args, ['/bin/bash', '-c', 'echo hi']);
    assert.deepEqual(imageConfig(p).Cmd, ['/bin/bash', '-c', 'serve --port 1']);
  });

  it('an ENTRYPOINT drops a CMD inherited from the base', async () => {
    const base = 'FROM busybox AS base\nCMD ["base-cmd"]\n';
    const p = await plan(base + 'FROM base\nENTRYPOINT ["/ep"]\n');
    assert.equal(imageConfig(p).Cmd, undefined);
    const q = await plan(base + 'FROM base\nCMD ["mine"]\nENTRYPOINT ["/ep"]\n');
    assert.deepEqual(imageConfig(q).Cmd, ['mine']);
  });

  it('runs a RUN heredoc as the script, and keeps heredocs inline in longer commands', async () => {
    const p = await plan('FROM busybox\nRUN <<EOF\necho one\necho two\nEOF\nRUN cat <<A > /f\ncontent\nA\n');
    assert.deepEqual(execOf(stepAt(p, 2)).args, ['/bin/sh', '-c', 'echo one\necho two\n']);
    // As BuildKit: each body and delimiter follow a newline, nothing after the last delimiter.
    assert.deepEqual(execOf(stepAt(p, 6)).args, ['/bin/sh', '-c', 'cat <<A > /f\ncontent\nA']);
    const q = await plan('FROM busybox\nRUN << EOF\necho spaced\nEOF\n');
    assert.deepEqual(execOf(stepAt(q, 2)).args, ['/bin/sh', '-c', 'echo spaced\n']);
  });

  it('runs a lone #! heredoc as a 0755 file mounted read-only under /dev/pipes, through the shell', async () => {
    const p = await plan('FROM busybox\nSHELL ["/bin/ash", "-c"]\nRUN <<-SCRIPT\n\t#!/bin/awk -f\n\tBEGIN { print "hi" }\n\tSCRIPT\n');
    const run = stepAt(p, 3);
    const exec = execOf(run);
    assert.deepEqual(exec.args, ['/bin/ash', '-c', '/dev/pipes/SCRIPT']);
    assert.equal(exec.mounts.length, 1);
    const mount = exec.mounts[0]!;
    assert.ok(mount.type === 'bind');
    assert.deepEqual({ target: mount.target, source: mount.source, readonly: mount.readonly }, { target: '/dev/pipes', source: '/', readonly: true });
    const file = p.steps.find((st) => st.key === run.inputs[mount.input!]);
    assert.ok(file?.kind === 'file' && file.file.action === 'copy');
    assert.deepEqual([file.inputs, file.file.dest, file.file.destPath, file.file.chmod, file.file.inline], [[], null, '/', '0755', [{ name: 'SCRIPT', content: '#!/bin/awk -f\nBEGIN { print "hi" }\n' }]]);
    assert.equal(p.targets[0]!.image.history!.at(-1)!.created_by, 'RUN /bin/ash -c /dev/pipes/SCRIPT # buildkit');
    // A #! body among other words stays inline for the shell.
    const q = await plan('FROM busybox\nRUN sh <<EOF\n#!/bin/sh\necho x\nEOF\n');
    assert.deepEqual(execOf(stepAt(q, 2)).mounts, []);
  });
});

describe('stages', () => {
  const multi = [
    'FROM busybox AS deps',
    'RUN echo deps > /deps',
    'FROM busybox AS unused',
    'RUN echo unused',
    'FROM deps AS build',
    'RUN echo build > /out',
    'FROM busybox',
    'COPY --from=build /out /out',
    'COPY --from=0 /deps /deps',
  ].join('\n');

  it('builds the last stage by default and prunes stages it does not need', async () => {
    const p = await plan(multi);
    const stages = p.targets[0]!.stages;
    assert.deepEqual(stages.map((s) => s.name ?? s.index), ['deps', 'build', 3]);
    assert.ok(!JSON.stringify(p.steps).includes('echo unused'));
  });

  it('builds --target and only what it needs', async () => {
    const p = await plan(multi, { target: 'build' });
    assert.deepEqual(p.targets[0]!.stages.map((s) => s.name), ['deps', 'build']);
    assert.equal(p.targets[0]!.target, 'build');
    await assert.rejects(plan(multi, { target: 'nope' }), /target stage "nope" could not be found in Dockerfile \(stages: deps, unused, build\)/);
  });

  it('COPY --from and RUN --mount from= an empty FROM scratch stage read an empty filesystem', async () => {
    const p = await plan('FROM scratch AS empty\nENV X=1\nFROM busybox\nCOPY --from=empty / /out/\nRUN --mount=from=empty,target=/m --mount=type=cache,from=empty,target=/c ls /m\n');
    const copy = stepAt(p, 4);
    assert.ok(copy.kind === 'file' && copy.file.action === 'copy');
    assert.deepEqual(copy.file.sources, [{ input: null, paths: ['/'] }]);
    const exec = execOf(stepAt(p, 5));
    assert.deepEqual(exec.mounts[0], { type: 'bind', target: '/m', input: null, source: '/', readonly: true });
    assert.equal(exec.mounts[1]!.type === 'cache' && exec.mounts[1]!.input, undefined);
  });

  it('COPY --from takes a stage name, an index, or an image', async () => {
    const p = await plan(multi + '\nCOPY --from=alpine:3.19 /etc/alpine-release /\n');
    const copy = stepAt(p, 10);
    const imageInput = p.steps.find((s) => s.key === copy.inputs[1]);
    assert.deepEqual(imageInput && imageInput.kind === 'source' && imageInput.source, { type: 'image', ref: 'docker.io/library/alpine:3.19' });
    const byIndex = stepAt(p, 9);
    const deps = p.targets[0]!.stages.find((s) => s.name === 'deps')!;
    assert.equal(byIndex.inputs[1], deps.result);
  });

  it('RUN --mount=from uses another stage', async () => {
    const p = await plan('FROM busybox AS tools\nRUN echo t > /t\nFROM busybox\nRUN --mount=from=tools,target=/mnt/tools cat /mnt/tools/t\n');
    const run = stepAt(p, 4);
    const exec = execOf(run);
    const tools = p.targets[0]!.stages[0]!;
    assert.deepEqual(exec.mounts, [{ type: 'bind', target: '/mnt/tools', input: 1, source: '/', readonly: true }]);
    assert.equal(run.inputs[1], tools.result);
  });

  it('detects a dependency cycle between stages', async () => {
    await assert.rejects(
      plan('FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nCOPY --from=a /y /y\n'),
      (e: unknown) => e instanceof DockerfileError && /circular dependency between stages: b -> a -> b/.test(e.message),
    );
    await assert.rejects(plan('FROM busybox AS self\nCOPY --from=self /x /x\n'), /circular dependency between stages: self -> self/);
  });

  it('FROM names only earlier stages, so FROM x AS x means the image', async () => {
    const p = await plan('FROM node:20 AS node\nRUN node -v\n');
    assert.equal(p.targets[0]!.stages[0]!.base, 'node:20');
    const src = p.steps[0]!;
    assert.equal(src.kind === 'source' && src.source.type === 'image' && src.source.ref, 'docker.io/library/node:20');
  });

  it('collapses identical stages into the same steps', async () => {
    const p = await plan('FROM busybox AS a\nRUN make\nFROM busybox AS b\nRUN make\nFROM scratch\nCOPY --from=a /o /a\nCOPY --from=b /o /b\n');
    const [a, b] = p.targets[0]!.stages;
    assert.equal(a!.result, b!.result);
    assert.equal(p.steps.filter((s) => s.kind === 'exec').length, 1);
  });

  it('runs ONBUILD triggers of a base image and clears them from the child', async () => {
    const baseConfig: ImageConfig = {
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/bin', 'LANG=C'], OnBuild: ['ENV FROM_TRIGGER=1', 'RUN echo triggered'], Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: [] },
    };
    const resolver: ImageResolver = {
      async resolve(ref) {
        assert.equal(ref, 'registry.example/base:1');
        return { digest: sha256('base'), config: baseConfig };
      },
    };
    const p = await plan('FROM registry.example/base:1\nRUN echo child\n', { resolver });
    const stage = p.targets[0]!.stages[0]!;
    const execs = p.steps.filter((s) => s.kind === 'exec').map((s) => execOf(s).args.at(-1));
    assert.deepEqual(execs, ['echo triggered', 'echo child']);
    const c = imageConfig(p);
    assert.equal(c.OnBuild, undefined);
    assert.deepEqual(c.Env, ['PATH=/bin', 'LANG=C', 'FROM_TRIGGER=1']);
    assert.deepEqual(c.Cmd, ['sh']);
    const src = p.steps.find((s) => s.key === stage.entries[0]!.step)!;
    assert.equal(src.kind === 'source' && src.source.type === 'image' && src.source.digest, sha256('base'));
  });
});

describe('platforms', () => {
  const df = [
    'FROM --platform=$BUILDPLATFORM busybox AS tools',
    'RUN echo compile-once',
    'FROM --platform=$BUILDPLATFORM busybox AS cross',
    'ARG TARGETARCH',
    'RUN echo build for $TARGETARCH',
    'FROM busybox',
    'COPY --from=tools /t /t',
    'COPY --from=cross /c /c',
  ].join('\n');

  it('makes one graph per target platform, each step carrying its platform', async () => {
    const p = await plan(df, { platforms: [parsePlatform('linux/amd64'), parsePlatform('linux/arm64'), parsePlatform('linux/arm/v7')] });
    assert.deepEqual(p.targets.map((t) => t.platform), ['linux/amd64', 'linux/arm64', 'linux/arm/v7']);
    assert.deepEqual(p.targets.map((t) => [t.image.architecture, t.image.variant]), [['amd64', undefined], ['arm64', undefined], ['arm', 'v7']]);
    for (const s of p.steps) assert.match(s.platform, /^linux\/(amd64|arm64|arm\/v7)$/);
    // The final stage runs on each target platform.
    assert.deepEqual(p.targets.map((t) => t.stages.at(-1)!.platform), ['linux/amd64', 'linux/arm64', 'linux/arm/v7']);
  });

  it('shares $BUILDPLATFORM stages across targets unless their inputs differ', async () => {
    const p = await plan(df, { platforms: [parsePlatform('linux/amd64'), parsePlatform('linux/arm64')] });
    const [amd, arm] = p.targets;
    const stage = (t: typeof amd, name: string) => t!.stages.find((s) => s.name === name)!;
    assert.equal(stage(amd, 'tools').result, stage(arm, 'tools').result, 'tools stage should be shared');
    assert.equal(stage(amd, 'tools').platform, 'linux/amd64');
    assert.equal(stage(arm, 'tools').platform, 'linux/amd64');
    assert.notEqual(stage(amd, 'cross').result, stage(arm, 'cross').result, 'cross stage sees TARGETARCH');
    assert.equal(p.steps.filter((s) => s.kind === 'exec' && execOf(s).args.at(-1) === 'echo compile-once').length, 1);
  });

  it('normalises platform names', () => {
    assert.equal(formatPlatform(parsePlatform('linux/arm64/v8')), 'linux/arm64');
    assert.equal(formatPlatform(parsePlatform('linux/arm')), 'linux/arm/v7');
    assert.equal(formatPlatform(parsePlatform('linux/x86_64')), 'linux/amd64');
    assert.throws(() => parsePlatform('linux//amd64'), /invalid platform/);
  });
});

describe('secrets and mounts', () => {
  it('keys a secret mount by id only, never by value, and requires required secrets', async () => {
    const df = 'FROM busybox\nRUN --mount=type=secret,id=token,required=true cat /run/secrets/token\n';
    const p = await plan(df, { secretIds: new Set(['token']) });
    const exec = execOf(stepAt(p, 2));
    assert.deepEqual(exec.mounts, [{ type: 'secret', id: 'token', target: '/run/secrets/token', required: true, mode: 0o400, uid: 0, gid: 0 }]);
    await assert.rejects(plan(df), /secret token is required but was not provided/);
  });

  it('parses cache, tmpfs, bind and ssh mounts with BuildKit defaults', async () => {
    const p = await plan(
      'FROM busybox\nWORKDIR /src\nRUN --mount=type=cache,target=.cache,sharing=locked,id=gocache --mount=type=tmpfs,target=/tmp,size=64m --mount=type=bind,source=go.mod,target=/src/go.mod,rw --mount=type=ssh make\n',
      { contextDir: makeDir({ 'go.mod': 'module x\n' }) },
    );
    const exec = execOf(stepAt(p, 3));
    assert.deepEqual(exec.mounts[0], { type: 'cache', target: '/src/.cache', id: 'gocache', sharing: 'locked', readonly: false, mode: 0o755, uid: 0, gid: 0 });
    assert.deepEqual(exec.mounts[1], { type: 'tmpfs', target: '/tmp', size: 64 * 1024 * 1024 });
    assert.deepEqual(exec.mounts[2], { type: 'bind', target: '/src/go.mod', input: 1, source: '/go.mod', readonly: false });
    assert.deepEqual(exec.mounts[3], { type: 'ssh', id: 'default', target: '/run/buildkit/ssh_agent.0', required: false, mode: 0o600, uid: 0, gid: 0 });
    await assert.rejects(plan('FROM busybox\nRUN --mount=type=cache echo\n'), /invalid mount target "\/"/);
    await assert.rejects(plan('FROM busybox\nWORKDIR /w\nRUN --mount=type=bind,target=.. echo\n'), /invalid mount target "\/"/);
    await assert.rejects(plan('FROM busybox\nRUN --mount=type=nfs,target=/x echo\n'), /unsupported mount type "nfs"/);
    await assert.rejects(plan('FROM busybox\nRUN --mount=type=tmpfs,target=/x,from=a echo\n'), /unexpected key 'from'/);
  });

  it('mounts bind, cache and tmpfs without a target at the working directory, as BuildKit does', async () => {
    const p = await plan('FROM busybox\nWORKDIR /src\nRUN --mount=type=bind --mount=type=cache --mount=type=tmpfs --mount=type=cache,target=sub make\n');
    const [bind, cache, tmpfs, sub] = execOf(stepAt(p, 3)).mounts;
    assert.ok(bind?.type === 'bind' && cache?.type === 'cache' && tmpfs?.type === 'tmpfs' && sub?.type === 'cache');
    assert.deepEqual([bind.target, cache.target, tmpfs.target, sub.target], ['/src', '/src', '/src', '/src/sub']);
    // The default cache id is the target as written (path.Clean), not joined with the working directory.
    assert.deepEqual([cache.id, sub.id], ['.', 'sub']);
  });

  it('validates --network and --security', async () => {
    const p = await plan('FROM busybox\nRUN --network=none --security=insecure true\n');
    const e = execOf(stepAt(p, 2));
    assert.equal(e.network, 'none');
    assert.equal(e.security, 'insecure');
    await assert.rejects(plan('FROM busybox\nRUN --network=bridge true\n'), /unsupported network mode "bridge"/);
  });
});

describe('COPY and ADD flags', () => {
  const fileOf = (s: Step) => {
    assert.equal(s.kind, 'file');
    return (s as Extract<Step, { kind: 'file' }>).file;
  };

  it('records --chown, --chmod, --exclude, --parents and the destination under WORKDIR', async () => {
    const dir = makeDir({ 'a/x.go': 'x', 'a/x_test.go': 't', 'b/y.go': 'y' });
    const p = await plan('FROM busybox\nWORKDIR /app\nCOPY --chown=app:app --chmod=0640 --exclude=*_test.go --parents a/ b/ dst/\n', { contextDir: dir });
    const f = fileOf(stepAt(p, 3));
    assert.ok(f.action === 'copy');
    assert.equal(f.destPath, '/app/dst/');
    assert.equal(f.chown, 'app:app');
    assert.equal(f.chmod, '0640');
    assert.deepEqual(f.exclude, ['*_test.go']);
    assert.equal(f.parents, true);
    const ctx = p.steps.find((s) => s.key === stepAt(p, 3).inputs[1])!;
    assert.ok(ctx.kind === 'source' && ctx.source.type === 'context');
    assert.deepEqual(ctx.source.include, ['a/', 'b/']);
  });

  it('--link copies onto nothing and merges, so the copy keeps its key when the base changes', async () => {
    const dir = makeDir({ 'app.bin': 'bin' });
    const a = await plan('FROM busybox:1\nCOPY --link app.bin /app\n', { contextDir: dir });
    const b = await plan('FROM busybox:2\nCOPY --link app.bin /app\n', { contextDir: dir });
    const merged = stepAt(a, 2);
    assert.equal(merged.kind, 'merge');
    const copyA = merged.inputs[1]!;
    const copyB = stepAt(b, 2).inputs[1]!;
    assert.equal(copyA, copyB, 'the linked copy does not depend on its base');
    const copy = a.steps.find((s) => s.key === copyA)!;
    assert.equal(copy.kind === 'file' && copy.file.dest, null);
  });

  it('ADD takes URLs with --checksum, git repositories with --keep-git-dir, and unpacks local files', async () => {
    const p = await plan(
      'FROM busybox\nADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/a.tar.gz /a/\nADD --keep-git-dir=true https://github.com/moby/buildkit.git#v0.13.0 /src\nADD local.tar /l/\n',
      { contextDir: makeDir({ 'local.tar': 'not really a tar' }) },
    );
    const src = (line: number) => p.steps.find((s) => s.key === stepAt(p, line).inputs[1])!;
    const http = src(2);
    const sum = 'sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d';
    // Not fetched (no fetchUrl), the URL is pinned to its checksum: the digest a fetch would verify.
    assert.deepEqual(http.kind === 'source' && http.source, { type: 'http', url: 'https://example.com/a.tar.gz', checksum: sum, digest: sum });
    const git = src(3);
    assert.deepEqual(git.kind === 'source' && git.source, { type: 'git', remote: 'https://github.com/moby/buildkit.git', ref: 'v0.13.0', subdir: '', keepGitDir: true, submodules: true, mtime: 'checkout' });
    const local = fileOf(stepAt(p, 4));
    assert.equal(local.action === 'copy' && local.unpack, true);
  });

  it('ADD reads git sources in the forms BuildKit accepts, credentials masked', async () => {
    const p = await plan(
      [
        'FROM busybox',
        'ADD git@github.com:moby/buildkit.git#v0.13.0:docs /a',
        'ADD https://user:token@example.com/org/repo.git?branch=dev&subdir=/x/y/&keep-git-dir /b',
        'ADD ssh://git@example.com/repo.git?tag=v1&submodules=false&mtime=commit&checksum=ABC123 /c',
        'ADD https://example.com/not-git/file.txt /d',
        '',
      ].join('\n'),
    );
    const src = (line: number) => {
      const s = p.steps.find((st) => st.key === stepAt(p, line).inputs[1])!;
      return s.kind === 'source' && s.source;
    };
    assert.deepEqual(src(2), { type: 'git', remote: 'git@github.com:moby/buildkit.git', ref: 'v0.13.0', subdir: 'docs', keepGitDir: false, submodules: true, mtime: 'checkout' });
    assert.deepEqual(src(3), { type: 'git', remote: 'https://xxxxx:xxxxx@example.com/org/repo.git', ref: 'refs/heads/dev', subdir: 'x/y', keepGitDir: true, submodules: true, mtime: 'checkout' });
    assert.deepEqual(src(4), { type: 'git', remote: 'ssh://git@example.com/repo.git', ref: 'refs/tags/v1', subdir: '', keepGitDir: false, submodules: false, mtime: 'commit', checksum: 'abc123' });
    assert.equal((src(5) || { type: '' }).type, 'http');
    assert.doesNotMatch(JSON.stringify(p), /token/);
    await assert.rejects(plan('FROM busybox\nADD --keep-git-dir=false https://example.com/r.git?keep-git-dir=true /r\n'), /inconsistent keep-git-dir configuration/);
    await assert.rejects(plan('FROM busybox\nADD https://example.com/r.git?colour=blue /r\n'), /unexpected query "colour"/);
    await assert.rejects(plan('FROM busybox\nCOPY https://example.com/r.git /r\n'), /COPY cannot fetch https:\/\/example\.com\/r\.git: use ADD/);
  });

  it('expands heredoc sources unless their delimiter is quoted', async () => {
    const p = await plan('FROM busybox\nARG WHO=world\nCOPY <<EOF /hello\nhello $WHO\nEOF\nCOPY <<"EOF" /raw\nhello $WHO\nEOF\n');
    const hello = fileOf(stepAt(p, 3));
    const raw = fileOf(stepAt(p, 6));
    assert.deepEqual(hello.action === 'copy' && hello.inline, [{ name: 'EOF', content: 'hello world\n' }]);
    assert.deepEqual(raw.action === 'copy' && raw.inline, [{ name: 'EOF', content: 'hello $WHO\n' }]);
  });
});
