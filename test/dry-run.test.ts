import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { makeDir, runCli } from './helpers.js';

interface JsonPlan {
  unresolved: { key: string; type: string; ref: string; platform: string }[];
  targets: { stages: { name?: string; base: string; unresolved?: boolean; steps: { line: number; key?: string; kind: string; unresolved?: boolean }[] }[] }[];
  steps: { key: string; kind: string; source?: { type: string; ref?: string; url?: string; digest?: string } }[];
}

/** A loopback port nothing listens on: connections to it are refused at once. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** stderr is exactly one line, stdout is empty, the exit code is `status`. */
function oneLineError(r: ReturnType<typeof runCli>, status: number): string {
  assert.equal(r.status, status, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  return lines[0]!;
}

describe('dry-run flags', () => {
  it('refuses --format without --dry-run instead of starting a build', () => {
    const dir = makeDir({ Dockerfile: 'FROM scratch\nCOPY missing /\n' });
    for (const format of ['json', 'text']) {
      const line = oneLineError(runCli(['build', '--format', format, dir]), 2);
      assert.equal(line, 'error: --format needs --dry-run: it sets the format of the printed plan');
    }
  });

  it('refuses --offline without --dry-run', () => {
    const dir = makeDir({ Dockerfile: 'FROM scratch\n' });
    assert.equal(oneLineError(runCli(['build', '--offline', dir]), 2), 'error: --offline needs --dry-run: a build must pull its base images');
  });
});

describe('dry-run against an unreachable registry', () => {
  const dockerfile = (host: string): string => `FROM scratch AS empty\nFROM ${host}/team/base:1.0 AS app\nRUN echo hi\n`;

  it('fails with one line naming the Dockerfile line and the image', async () => {
    const host = `127.0.0.1:${await closedPort()}`;
    const dir = makeDir({ Dockerfile: dockerfile(host) });
    const line = oneLineError(runCli(['build', '--dry-run', '--format', 'json', dir]), 1);
    assert.ok(line.startsWith('error: ') && line.includes(`Dockerfile:2: ${host}/team/base:1.0: `), line);
    assert.match(line, /cannot reach/);
    assert.match(line, /--offline/);
  });

  it('with --offline plans anyway and marks the base unresolved in JSON', async () => {
    const host = `127.0.0.1:${await closedPort()}`;
    const dir = makeDir({ Dockerfile: dockerfile(host) + 'ADD http://127.0.0.1:1/file.txt /f\n', 'x.txt': 'x' });
    const r = runCli(['build', '--dry-run', '--offline', '--format', 'json', dir]);
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(r.stdout) as JsonPlan;
    const image = p.steps.find((s) => s.kind === 'source' && s.source?.type === 'image')!;
    const http = p.steps.find((s) => s.kind === 'source' && s.source?.type === 'http')!;
    assert.equal(image.source!.digest, undefined);
    assert.deepEqual(
      p.unresolved.map((u) => [u.type, u.ref, u.key]),
      [
        ['image', `${host}/team/base:1.0`, image.key],
        ['http', 'http://127.0.0.1:1/file.txt', http.key],
      ],
    );
    const app = p.targets[0]!.stages.find((s) => s.name === 'app')!;
    assert.equal(app.unresolved, true);
    assert.deepEqual(app.steps[0], { ...app.steps[0], line: 2, key: image.key, unresolved: true });
    assert.equal(app.steps[1]!.unresolved, undefined, 'the RUN itself is not a source');
  });

  it('with --offline marks the unresolved base and step in the text form', async () => {
    const host = `127.0.0.1:${await closedPort()}`;
    const dir = makeDir({ Dockerfile: dockerfile(host) });
    const r = runCli(['build', '--dry-run', '--offline', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\nUNRESOLVED: 1 remote source not resolved \(--offline\)/);
    assert.match(r.stdout, new RegExp(`\\n  stage 1 "app" FROM ${host}/team/base:1\\.0 \\[linux/\\w+\\] UNRESOLVED\\n`));
    assert.match(r.stdout, new RegExp(`\\n +2  FROM ${host}/team/base:1\\.0 AS app +[0-9a-f]{12} image ${host}/team/base:1\\.0 UNRESOLVED\\n`));
  });

  it('marks nothing when every base is local', () => {
    const dir = makeDir({ Dockerfile: 'FROM scratch\nCOPY x.txt /\n', 'x.txt': 'x' });
    const r = runCli(['build', '--dry-run', '--offline', '--format', 'json', dir]);
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(r.stdout) as JsonPlan;
    assert.deepEqual(p.unresolved, []);
    assert.equal(p.targets[0]!.stages[0]!.unresolved, undefined);
    assert.doesNotMatch(runCli(['build', '--dry-run', '--offline', dir]).stdout, /UNRESOLVED/);
  });
});

describe('dry-run --offline on the constructs of moby\'s, compose\'s and buildkit\'s Dockerfiles', () => {
  // The shapes those files use, in small: a syntax directive, platform ARGs in global scope, stages
  // for $BUILDPLATFORM, a stage chosen by $TARGETOS, COPY --link, cache mounts with ids, a heredoc
  // RUN, ADD of a URL and of a git repository. Every remote base and source stays unresolved.
  const dockerfile = `# syntax=docker/dockerfile:1
ARG XX_VERSION=1.9.0
ARG DELVE_SUPPORTED=\${TARGETPLATFORM#linux/amd64}
ARG DELVE_SUPPORTED=\${DELVE_SUPPORTED:+"unsupported"}
ARG DELVE_SUPPORTED=\${DELVE_SUPPORTED:-"supported"}
FROM --platform=$BUILDPLATFORM tonistiigi/xx:\${XX_VERSION} AS xx
FROM --platform=\${BUILDPLATFORM} golang:1.26-alpine AS base
COPY --link --from=xx / /
ADD --chmod=0644 https://example.com/Release.key /etc/apt/trusted.gpg.d/key.asc
ADD https://github.com/go-delve/delve.git#v1.26.3 /usr/src/delve
ARG TARGETPLATFORM
RUN --mount=type=cache,target=/root/.cache/go-build,id=build-$TARGETPLATFORM \\
    --mount=type=cache,sharing=locked,id=apt,target=/var/cache/apt <<EOT
  set -e
  xx-go build ./...
EOT
FROM base AS delve-supported
RUN mkdir /build
FROM scratch AS delve-unsupported
FROM delve-\${DELVE_SUPPORTED} AS delve
FROM base AS linux
COPY --link --from=delve /build /usr/local/bin/
FROM scratch AS windows
FROM \${TARGETOS} AS final
`;

  it('plans them, listing each unresolved image, URL and git source', () => {
    const dir = makeDir({ Dockerfile: dockerfile });
    const r = runCli(['build', '--dry-run', '--offline', '--format', 'json', '--platform', 'linux/amd64', dir]);
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(r.stdout) as JsonPlan;
    assert.deepEqual(p.targets[0]!.stages.map((s) => s.name), ['xx', 'base', 'delve-supported', 'delve', 'linux', 'final']);
    assert.deepEqual(
      p.unresolved.map((u) => [u.type, u.platform]),
      [
        ['image', 'linux/amd64'],
        ['image', 'linux/amd64'],
        ['http', 'linux/amd64'],
        ['git', 'linux/amd64'],
      ],
    );
    assert.deepEqual(p.unresolved.slice(0, 3).map((u) => u.ref), ['docker.io/library/golang:1.26-alpine', 'docker.io/tonistiigi/xx:1.9.0', 'https://example.com/Release.key']);
    assert.ok(p.unresolved[3]!.ref.startsWith('https://github.com/go-delve/delve.git'));
  });
});

describe('control characters from a Dockerfile', () => {
  it('are escaped in error messages', () => {
    const dir = makeDir({ Dockerfile: 'FROM scratch\nFO\x1b[2JO bar\n' });
    const line = oneLineError(runCli(['build', '--dry-run', dir]), 1);
    assert.ok(line.endsWith('Dockerfile:2: unknown instruction: FO\\x1b[2JO'), line);
  });

  it('are escaped in the text plan', () => {
    const dir = makeDir({ Dockerfile: 'FROM scratch\nLABEL x="\x1b]0;pwned\x07"\n' });
    const r = runCli(['build', '--dry-run', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /[\x00-\x09\x0b-\x1f]/);
    assert.match(r.stdout, /LABEL x="\\x1b\]0;pwned\\x07"/);
  });
});
