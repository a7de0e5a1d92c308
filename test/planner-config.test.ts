import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DockerfileError } from '../coordinator/dockerfile/errors.js';
import type { Step } from '../coordinator/plan/graph.js';
import type { BuildPlan } from '../coordinator/plan/plan-types.js';
import { parsePlatform } from '../oci/platform.js';
import { imageConfig, makeDir, plan, stepAt } from './helpers.js';

/** Image config and history as BuildKit's Dockerfile frontend writes them (dockerfile2llb, checked against its source). */

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const args = (entries: Record<string, string>) => new Map(Object.entries(entries));

function execOf(s: Step) {
  assert.equal(s.kind, 'exec');
  return (s as Extract<Step, { kind: 'exec' }>).exec;
}

/** The `created_by` of every history entry of the first target. */
const createdBy = (p: BuildPlan): string[] => p.targets[0]!.image.history!.map((h) => h.created_by ?? '');

describe('FROM scratch', () => {
  it('starts from the empty image: WorkingDir / and the default PATH', async () => {
    const p = await plan('FROM scratch\nLABEL a=b\n');
    const c = imageConfig(p);
    assert.equal(c.WorkingDir, '/');
    assert.deepEqual(c.Env, [DEFAULT_PATH]);
  });
});

describe('ARG after ENV of the same name', () => {
  it('wins for expansion and for later RUNs, while the image keeps the ENV value', async () => {
    const p = await plan('FROM busybox\nENV V=from-env\nARG V=from-arg\nRUN echo\nENV W=$V\nWORKDIR /$V\n');
    const env = execOf(stepAt(p, 4)).env;
    assert.ok(env.includes('V=from-arg'), env.join(' '));
    assert.ok(!env.includes('V=from-env'), env.join(' '));
    const c = imageConfig(p);
    assert.deepEqual(c.Env, [DEFAULT_PATH, 'V=from-env', 'W=from-arg']);
    assert.equal(c.WorkingDir, '/from-arg');
  });

  it('holds for a bare ARG given --build-arg, and a later ENV wins again', async () => {
    const df = 'FROM busybox\nENV MODE=env\nARG MODE\nRUN echo 1\nENV MODE=again\nRUN echo 2\n';
    const bare = await plan(df);
    assert.ok(execOf(stepAt(bare, 4)).env.includes('MODE=env'), 'a bare ARG without a value changes nothing');
    const given = await plan(df, { buildArgs: args({ MODE: 'cli' }) });
    assert.ok(execOf(stepAt(given, 4)).env.includes('MODE=cli'));
    assert.ok(execOf(stepAt(given, 6)).env.includes('MODE=again'));
    assert.deepEqual(imageConfig(given).Env, [DEFAULT_PATH, 'MODE=again']);
  });

  it('keeps a value given earlier when the same ARG is declared again without one', async () => {
    const p = await plan('FROM busybox\nARG A=1\nARG A\nRUN echo\n');
    assert.ok(execOf(stepAt(p, 4)).env.includes('A=1'));
  });

  it('carries ARGs into a stage built FROM this one, as BuildKit does', async () => {
    const p = await plan('FROM busybox AS base\nARG A=1\nFROM base\nRUN echo $A\nENV B=$A\n');
    assert.ok(execOf(stepAt(p, 4)).env.includes('A=1'));
    assert.deepEqual(imageConfig(p).Env, [DEFAULT_PATH, 'B=1']);
  });
});

describe('history', () => {
  it('lists every ARG in scope before a RUN, an empty value for those without one', async () => {
    const p = await plan('FROM busybox\nARG A=1\nARG B\nARG C=x\nRUN echo hi\n');
    assert.equal(createdBy(p).at(-1), 'RUN |3 A=1 B= C=x /bin/sh -c echo hi # buildkit');
    // A re-declared ARG is listed once, at its first place, with its last value.
    const again = await plan('FROM busybox\nARG foo=bar\nARG bar=123\nARG foo=bar2\nARG none\nRUN ls /etc/\n');
    assert.equal(createdBy(again).at(-1), 'RUN |3 foo=bar2 bar=123 none= /bin/sh -c ls /etc/ # buildkit');
    // Proxy values may hold credentials: they stay out even when declared.
    const proxy = await plan('FROM busybox\nARG HTTP_PROXY\nARG A\nRUN true\n', { buildArgs: args({ HTTP_PROXY: 'http://user:pw@proxy:3128' }) });
    assert.equal(createdBy(proxy).at(-1), 'RUN |1 A= /bin/sh -c true # buildkit');
  });

  it('shows the value in effect: an ENV after the ARG, and ARGs of the parent stage', async () => {
    const p = await plan('FROM busybox AS base\nARG A=1\nENV A=2\nFROM base\nARG B\nRUN ["true"]\n');
    assert.equal(createdBy(p).at(-1), 'RUN |2 A=2 B= true # buildkit');
  });

  it('writes EXPOSE as the list of exposed ports, in the sorted order of the words', async () => {
    const p = await plan('FROM busybox\nEXPOSE 2375 5000 1234/udp\nEXPOSE 9000 80-81/tcp\n');
    assert.deepEqual(createdBy(p), ['EXPOSE [1234/udp 2375/tcp 5000/tcp]', 'EXPOSE [80/tcp 81/tcp 9000/tcp]']);
  });

  it('names only --parents, --chown and --chmod in COPY and ADD entries', async () => {
    const p = await plan('FROM busybox AS a\nRUN touch /f\nFROM busybox\nCOPY --link --from=a --chown=1:1 /f /g\nCOPY --parents --chmod=0644 --exclude=x f* /d/\nADD --link f /h\n', { contextDir: makeDir({ f: 'x' }) });
    assert.deepEqual(createdBy(p).slice(-3), ['COPY --chown=1:1 /f /g # buildkit', 'COPY --parents --chmod=0644 f* /d/ # buildkit', 'ADD f /h # buildkit']);
  });

  it('writes HEALTHCHECK as the health config, and nothing for ONBUILD', async () => {
    const p = await plan('FROM busybox\nHEALTHCHECK --interval=1m30s --timeout=500ms --retries=3 CMD true\nONBUILD RUN true\n');
    assert.deepEqual(createdBy(p), ['HEALTHCHECK {Test:[CMD-SHELL true] Interval:1m30s Timeout:500ms StartPeriod:0s StartInterval:0s Retries:3}']);
  });
});

describe('config rules', () => {
  it('keeps an absolute WORKDIR exactly as written and cleans a relative one', async () => {
    const p = await plan('FROM busybox\nWORKDIR /a/b/\nRUN pwd\nWORKDIR c/./d/\n');
    assert.equal(execOf(stepAt(p, 3)).cwd, '/a/b/');
    assert.equal(imageConfig(p).WorkingDir, '/a/b/c/d');
    assert.deepEqual(createdBy(p).filter((h) => h.startsWith('WORKDIR')), ['WORKDIR /a/b/', 'WORKDIR /a/b/c/d']);
    const q = await plan('FROM busybox\nWORKDIR /srv/../opt//x\n');
    assert.equal(imageConfig(q).WorkingDir, '/srv/../opt//x');
  });

  it('uses the default of an automatic platform ARG, and --build-arg over both', async () => {
    const df = 'ARG BUILDARCH=global\nFROM busybox:$BUILDARCH\nARG TARGETARCH=mine\nARG TARGETOS\nRUN echo\nENV T=$TARGETARCH-$TARGETOS\n';
    const p = await plan(df, { platforms: [parsePlatform('linux/arm64')] });
    assert.equal(p.targets[0]!.stages[0]!.base, 'busybox:global');
    const env = execOf(stepAt(p, 5)).env;
    assert.ok(env.includes('TARGETARCH=mine') && env.includes('TARGETOS=linux'), env.join(' '));
    assert.ok(imageConfig(p).Env!.toString().includes('T=mine-linux'));
    const q = await plan(df, { platforms: [parsePlatform('linux/arm64')], buildArgs: args({ TARGETARCH: 'cli', BUILDARCH: 'cli-build' }) });
    assert.equal(q.targets[0]!.stages[0]!.base, 'busybox:cli-build');
    assert.ok(execOf(stepAt(q, 5)).env.includes('TARGETARCH=cli'));
  });

  it('gives CMD and ENTRYPOINT without arguments the shell form of an empty command', async () => {
    const c = imageConfig(await plan('FROM busybox\nENTRYPOINT\nCMD\n'));
    assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', '']);
    assert.deepEqual(c.Cmd, ['/bin/sh', '-c', '']);
    const shell = imageConfig(await plan('FROM busybox\nSHELL ["/bin/bash", "-ec"]\nCMD\n'));
    assert.deepEqual(shell.Cmd, ['/bin/bash', '-ec', '']);
  });

  it('accepts any positive STOPSIGNAL number and only names of the signal map', async () => {
    for (const ok of ['99', '255', 'SIGRTMIN+15', 'sigrtmax-14', 'RTMAX-1', 'SIGRTMIN', 'term']) {
      assert.equal(imageConfig(await plan(`FROM busybox\nSTOPSIGNAL ${ok}\n`)).StopSignal, ok);
    }
    for (const bad of ['0', 'SIGRTMIN+16', 'SIGRTMAX-15', 'SIGRTMIN+0', 'SIGFOO', '-1']) {
      await assert.rejects(plan(`FROM busybox\nSTOPSIGNAL ${bad}\n`), (e) => e instanceof DockerfileError && /^invalid signal/.test(e.message) && e.line === 2, bad);
    }
  });

  it('accepts EXPOSE [ip:]hostPort:containerPort, exposing the container port, with a warning', async () => {
    const p = await plan('FROM busybox\nEXPOSE 127.0.0.1:8080:80/udp 9090:90 [::1]:7000-7001:7000-7001\n', { platforms: [parsePlatform('linux/amd64'), parsePlatform('linux/arm64')] });
    assert.deepEqual(Object.keys(imageConfig(p).ExposedPorts as object).sort(), ['7000/tcp', '7001/tcp', '80/udp', '90/tcp']);
    const warnings = p.warnings.filter((w) => /EXPOSE instruction should not define an IP address or host-port mapping/.test(w.message));
    assert.equal(warnings.length, 3, 'one warning per mapping, not per platform');
    assert.ok(warnings.every((w) => w.line === 2));
    await assert.rejects(plan('FROM busybox\nEXPOSE 1.2.3:80:80\n'), /invalid IP address/);
    await assert.rejects(plan('FROM busybox\nEXPOSE 8000-8002:80-81\n'), /invalid port/);
  });

  it('ignores the flags of HEALTHCHECK NONE', async () => {
    const c = imageConfig(await plan('FROM busybox\nHEALTHCHECK --interval=5s --retries=3 NONE\n'));
    assert.deepEqual(c.Healthcheck, { Test: ['NONE'] });
  });
});

describe('long chains of stages', () => {
  it('plans 5,000 stages each built FROM the previous one, or copying from it', async () => {
    const count = 5000;
    const lines = ['FROM busybox AS s0', 'RUN echo 0 > /f'];
    for (let i = 1; i < count; i++) lines.push(`FROM s${i - 1} AS s${i}`, `RUN echo ${i} > /f`);
    const p = await plan(lines.join('\n') + '\n');
    assert.equal(p.targets[0]!.stages.length, count);
    assert.equal(p.steps.filter((s) => s.kind === 'exec').length, count);

    const copies = ['FROM busybox AS s0', 'RUN echo 0 > /f'];
    for (let i = 1; i < count; i++) copies.push(`FROM busybox AS s${i}`, `COPY --from=s${i - 1} /f /f`);
    const q = await plan(copies.join('\n') + '\n');
    assert.equal(q.targets[0]!.stages.length, count);
    assert.deepEqual(q.targets[0]!.stages.map((s) => s.index), Array.from({ length: count }, (_, i) => i), 'dependencies come first');
  });
});
