import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { busyboxLayout, buildOci, inspectConfig, requireTools, rootfsFile, runBundle, unpack } from './engine-helpers.js';

/** Image config and RUN environments of real builds, as BuildKit gives them. */

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

before(() => {
  requireTools();
  busyboxLayout();
});

describe('image config of real builds', () => {
  it('gives a FROM scratch image the empty image config: WorkingDir / and the default PATH', () => {
    const b = buildOci({ Dockerfile: 'FROM scratch\nCOPY hello /hello\n', hello: 'hi\n' });
    assert.equal(b.status, 0, b.stderr);
    const { config } = inspectConfig(b.layout);
    assert.equal(config.WorkingDir, '/');
    assert.deepEqual(config.Env, [DEFAULT_PATH]);
    assert.equal(rootfsFile(unpack(b.layout), 'hello'), 'hi\n');
  });

  it('runs RUN with an ARG that follows an ENV of the same name, and keeps the ENV in the image', () => {
    const df = [
      'FROM busybox',
      'ENV V=from-env',
      'ARG V=from-arg',
      'ENV MODE=env',
      'ARG MODE',
      'RUN env > /env && echo "$V" > /shell-v',
      'ENV W=$V',
      'CMD ["env"]',
    ].join('\n');
    const b = buildOci({ Dockerfile: df }, ['--build-arg', 'MODE=cli']);
    assert.equal(b.status, 0, b.stderr);
    const bundle = unpack(b.layout);
    const runEnv = rootfsFile(bundle, 'env').split('\n');
    assert.ok(runEnv.includes('V=from-arg') && !runEnv.includes('V=from-env'), runEnv.join(' '));
    assert.ok(runEnv.includes('MODE=cli'), `a bare ARG given --build-arg wins over the ENV too: ${runEnv.join(' ')}`);
    assert.equal(rootfsFile(bundle, 'shell-v'), 'from-arg\n');
    const image = inspectConfig(b.layout);
    const env = image.config.Env as string[];
    for (const kv of ['V=from-env', 'MODE=env', 'W=from-arg']) assert.ok(env.includes(kv), `missing ${kv} in ${env.join(' ')}`);
    const run = image.history.at(-3); // the RUN, before ENV W and CMD
    assert.equal(run?.created_by, 'RUN |2 V=from-arg MODE=cli /bin/sh -c env > /env && echo "$V" > /shell-v # buildkit');
    // The container started from the image sees the ENV value.
    const started = runBundle(bundle);
    assert.equal(started.status, 0, started.stderr);
    const containerEnv = started.stdout.split('\n');
    assert.ok(containerEnv.includes('V=from-env') && containerEnv.includes('MODE=env'), containerEnv.join(' '));
  });
});
