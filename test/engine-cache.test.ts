import assert from 'node:assert/strict';
import { readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { busyboxLayout, buildOci, freshCache, requireTools, stepStates } from './engine-helpers.js';
import { makeDir, writeFile } from './helpers.js';

before(() => {
  requireTools();
  busyboxLayout();
});

const dockerfile = [
  'FROM busybox',
  'ARG MODE=debug',
  'WORKDIR /app',
  'COPY package.json ./',
  'RUN cat package.json > deps.txt',
  'COPY src/ ./src/',
  'RUN cat src/*.js src/lib/*.js > bundle.js && echo $MODE > mode',
  'COPY README.md /doc/',
].join('\n');

/** A project in a directory and a cache of its own, so that each test starts from a known state. */
function project(files: Record<string, string> = { Dockerfile: dockerfile }) {
  const cache = freshCache();
  const dir = makeDir({
    'package.json': '{"name":"demo"}\n',
    'src/index.js': 'index\n',
    'src/lib/util.js': 'util\n',
    'README.md': 'readme\n',
    'notes.txt': 'not copied\n',
    ...files,
  });
  const build = (extra: string[] = []) => {
    const r = buildOci({}, extra, { cache, dir });
    assert.equal(r.status, 0, r.stderr);
    return { ...stepStates(r.stderr), stderr: r.stderr, layout: r.layout };
  };
  return { dir, build };
}

/** The same, built once: every step is in the cache. */
function builtProject(files?: Record<string, string>) {
  const p = project(files);
  const first = p.build();
  assert.deepEqual(first.cached, []);
  return p;
}

describe('the cache', () => {
  it('runs every step the first time and says why', () => {
    const first = project().build();
    assert.equal(first.cached.length, 0);
    assert.equal(first.ran.length, 7);
    assert.match(first.stderr, /cache miss: not built before/);
  });

  it('runs no step when nothing changed', () => {
    const again = builtProject().build();
    assert.deepEqual(again.ran, []);
    assert.equal(again.cached.length, 7);
  });

  it('runs no step after touching every file', () => {
    const { dir, build } = builtProject();
    const later = new Date(Date.now() + 7200_000);
    for (const f of ['Dockerfile', 'package.json', 'src/index.js', 'src/lib/util.js', 'README.md', 'notes.txt']) utimesSync(join(dir, f), later, later);
    assert.deepEqual(build().ran, []);
  });

  it('runs nothing when a file no step copies changes', () => {
    const { dir, build } = builtProject();
    writeFile(dir, 'notes.txt', 'edited, still not copied\n');
    assert.deepEqual(build().ran, []);
  });

  it('reruns exactly the steps after the COPY of an edited file, naming the file', () => {
    const { dir, build } = builtProject();
    writeFile(dir, 'src/lib/util.js', 'util v2\n');
    const r = build();
    assert.deepEqual(r.ran, ['[stage-0 5/7] COPY src/ ./src/', '[stage-0 6/7] RUN cat src/*.js src/lib/*.js > bundle.js && echo $MODE > mode', '[stage-0 7/7] COPY README.md /doc/']);
    assert.match(r.stderr, /cache miss: context file changed: src\/lib\/util\.js/);
    assert.match(r.stderr, /cache miss: parent step changed: \[stage-0 5\/7\] COPY src\/ \.\/src\//);
  });

  it('names the build arg that differs', () => {
    const { dir, build } = builtProject();
    const r = build(['--build-arg', 'MODE=release', '--metadata-file', join(dir, 'meta.json')]);
    // MODE is in the environment of every RUN after the ARG, so the first of them and all after it rerun.
    assert.deepEqual(r.ran.map((s) => s.split(']')[0]), ['[stage-0 4/7', '[stage-0 5/7', '[stage-0 6/7', '[stage-0 7/7']);
    assert.match(r.stderr, /cache miss: build arg\/ENV MODE changed/);
    assert.doesNotMatch(r.stderr, /release/, 'the value itself is not printed');
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { 'dockyard.cache-misses': { step: string; reason: string }[] };
    assert.equal(meta['dockyard.cache-misses'].length, 4);
  });

  it('--no-cache runs every step although all are cached', () => {
    const all = builtProject().build(['--no-cache']);
    assert.deepEqual(all.cached, []);
    assert.equal(all.ran.length, 7);
  });

  it('--no-cache-filter reruns the named stage only, by name or by index', () => {
    const { build } = builtProject({
      Dockerfile: [
        'FROM busybox AS deps',
        'RUN echo deps > /deps',
        'FROM busybox AS tools',
        'RUN echo tools > /tools',
        'FROM busybox',
        'COPY --from=deps /deps /deps',
        'COPY --from=tools /tools /tools',
        'RUN cat /deps /tools > /both',
      ].join('\n'),
    });
    // FROM busybox is one step shared by all three stages (named after the first); it belongs to the filtered stage too.
    const steps = (names: string[]) => names.filter((n) => !/^\[deps 1\/2\] FROM /.test(n));
    const byName = build(['--no-cache-filter', 'tools']);
    assert.deepEqual(steps(byName.ran), ['[tools 2/2] RUN echo tools > /tools']);
    assert.deepEqual(steps(byName.cached).sort(), ['[deps 2/2] RUN echo deps > /deps', '[stage-2 2/4] COPY --from=deps /deps /deps', '[stage-2 3/4] COPY --from=tools /tools /tools', '[stage-2 4/4] RUN cat /deps /tools > /both']);
    assert.match(byName.stderr, /cache miss: cache disabled for this step \(--no-cache\)/);
    // A stage without a name is named by its index.
    const byIndex = build(['--no-cache-filter', '2']);
    assert.deepEqual(steps(byIndex.ran), ['[stage-2 2/4] COPY --from=deps /deps /deps', '[stage-2 3/4] COPY --from=tools /tools /tools', '[stage-2 4/4] RUN cat /deps /tools > /both']);
    assert.deepEqual(steps(byIndex.cached).sort(), ['[deps 2/2] RUN echo deps > /deps', '[tools 2/2] RUN echo tools > /tools']);
  });
});
