import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { busyboxLayout, buildOci, requireTools, rootfsFile, unpack } from './engine-helpers.js';

/** Dockerfile syntax that BuildKit runs in a particular way, checked in real images. */

before(() => {
  requireTools();
  busyboxLayout();
});

describe('RUN heredocs', () => {
  it('runs a lone heredoc starting with #! as a script with that interpreter', () => {
    const df = [
      'FROM busybox',
      'RUN <<EOF',
      '#!/bin/awk -f',
      'BEGIN { print "awk says " 6 * 7 > "/awk-out" }',
      'EOF',
      'RUN <<SCRIPT',
      '#!/bin/sh',
      'echo "$0" > /script-path',
      'SCRIPT',
    ].join('\n');
    const b = buildOci({ Dockerfile: df });
    assert.equal(b.status, 0, b.stderr);
    const bundle = unpack(b.layout);
    assert.equal(rootfsFile(bundle, 'awk-out'), 'awk says 42\n');
    assert.equal(rootfsFile(bundle, 'script-path'), '/dev/pipes/SCRIPT\n');
    assert.ok(!existsSync(join(bundle, 'rootfs/dev/pipes')), 'the script mount leaves nothing in the image');
  });

  it('reads a heredoc with blanks after << (dockerfile 1.16+)', () => {
    const b = buildOci({ Dockerfile: 'FROM busybox\nRUN cat << EOF > /spaced\nhello\nEOF\n' });
    assert.equal(b.status, 0, b.stderr);
    assert.equal(rootfsFile(unpack(b.layout), 'spaced'), 'hello\n');
  });
});

describe('RUN --mount without a target', () => {
  it('mounts bind, tmpfs and cache mounts at the working directory', () => {
    const df = [
      'FROM busybox',
      'WORKDIR /work',
      'RUN --mount=type=bind cat data.txt > /from-bind',
      'RUN --mount=type=tmpfs sh -c "echo temp > t.txt && pwd > /tmpfs-pwd && ls /work > /tmpfs-list"',
      'RUN --mount=type=cache,target=sub sh -c "echo cached > sub/c && ls /work/sub > /cache-list"',
    ].join('\n');
    const b = buildOci({ Dockerfile: df, 'data.txt': 'from the context\n' });
    assert.equal(b.status, 0, b.stderr);
    const bundle = unpack(b.layout);
    assert.equal(rootfsFile(bundle, 'from-bind'), 'from the context\n');
    assert.equal(rootfsFile(bundle, 'tmpfs-pwd'), '/work\n');
    assert.equal(rootfsFile(bundle, 'tmpfs-list'), 't.txt\n');
    assert.equal(rootfsFile(bundle, 'cache-list'), 'c\n');
    assert.deepEqual(readdirSync(join(bundle, 'rootfs/work')), [], 'what the mounts held stays out of the image');
  });
});

describe('an empty FROM scratch stage as a source', () => {
  it('COPY --from and RUN --mount from= read it as an empty filesystem', () => {
    const df = [
      'FROM scratch AS empty',
      'ENV UNUSED=1',
      'FROM busybox',
      'COPY --from=empty / /out/',
      'RUN --mount=from=empty,target=/m --mount=type=cache,from=empty,target=/c sh -c "test -d /m && ls -A /m | wc -l > /m-count"',
      'RUN ls -A /out 2>/dev/null | wc -l > /out-count',
    ].join('\n');
    const b = buildOci({ Dockerfile: df });
    assert.equal(b.status, 0, b.stderr);
    const bundle = unpack(b.layout);
    assert.equal(rootfsFile(bundle, 'm-count').trim(), '0');
    assert.equal(rootfsFile(bundle, 'out-count').trim(), '0');
  });
});
