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

function project(): string {
  return makeDir({
    Dockerfile: dockerfile,
    'package.json': '{"name":"demo"}\n',
    'src/index.js': 'index\n',
    'src/lib/util.js': 'util\n',
    'README.md': 'readme\n',
    'notes.txt': 'not copied\n',
  });
}

describe('the cache', () => {
  const cache = freshCache();
  const dir = project();
  const build = (extra: string[] = []) => {
    const r = buildOci({}, extra, { cache, dir });
    assert.equal(r.status, 0, r.stderr);
    return { ...stepStates(r.stderr), stderr: r.stderr, layout: r.layout };
  };

  it('runs every step the first time and says why', () => {
    const first = build();
    assert.equal(first.cached.length, 0);
    assert.equal(first.ran.length, 7);
    assert.match(first.stderr, /cache miss: not built before/);
  });

  it('runs no step when nothing changed', () => {
    const again = build();
    assert.deepEqual(again.ran, []);
    assert.equal(again.cached.length, 7);
  });

  it('runs no step after touching every file', () => {
    const later = new Date(Date.now() + 7200_000);
    for (const f of ['Dockerfile', 'package.json', 'src/index.js', 'src/lib/util.js', 'README.md', 'notes.txt']) utimesSync(join(dir, f), later, later);
    assert.deepEqual(build().ran, []);
  });

  it('runs nothing when a file no step copies changes', () => {
    writeFile(dir, 'notes.txt', 'edited, still not copied\n');
    assert.deepEqual(build().ran, []);
  });

  it('reruns exactly the steps after the COPY of an edited file, naming the file', () => {
    writeFile(dir, 'src/lib/util.js', 'util v2\n');
    const r = build();
    assert.deepEqual(r.ran, ['[stage-0 5/7] COPY src/ ./src/', '[stage-0 6/7] RUN cat src/*.js src/lib/*.js > bundle.js && echo $MODE > mode', '[stage-0 7/7] COPY README.md /doc/']);
    assert.match(r.stderr, /cache miss: context file changed: src\/lib\/util\.js/);
    assert.match(r.stderr, /cache miss: parent step changed: \[stage-0 5\/7\] COPY src\/ \.\/src\//);
  });

  it('names the build arg that differs', () => {
    const r = build(['--build-arg', 'MODE=release', '--metadata-file', join(dir, 'meta.json')]);
    // MODE is in the environment of every RUN after the ARG, so the first of them and all after it rerun.
    assert.deepEqual(r.ran.map((s) => s.split(']')[0]), ['[stage-0 4/7', '[stage-0 5/7', '[stage-0 6/7', '[stage-0 7/7']);
    assert.match(r.stderr, /cache miss: build arg\/ENV MODE changed/);
    assert.doesNotMatch(r.stderr, /release/, 'the value itself is not printed');
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { 'dockyard.cache-misses': { step: string; reason: string }[] };
    assert.equal(meta['dockyard.cache-misses'].length, 4);
  });

  it('--no-cache runs everything, --no-cache-filter only the named stage', () => {
    const all = build(['--build-arg', 'MODE=release', '--no-cache']);
    assert.equal(all.ran.length, 7);
    const filtered = buildOci({}, ['--build-arg', 'MODE=release', '--no-cache-filter', '0'], { cache, dir });
    assert.equal(stepStates(filtered.stderr).ran.length, 7);
  });
});
