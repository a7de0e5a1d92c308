import assert from 'node:assert/strict';
import { chmodSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BuildContext } from '../coordinator/context/build-context.js';
import { selectFromContext } from '../coordinator/context/selection.js';
import { keyStep } from '../coordinator/plan/graph.js';
import { canonicalJson } from '../oci/digest.js';
import { makeDir, plan, stepAt, writeFile } from './helpers.js';


const dockerfile = [
  'FROM busybox', //                         1
  'WORKDIR /app', //                         2
  'COPY package.json ./', //                 3
  'RUN npm ci', //                           4
  'COPY src/ ./src/', //                     5
  'RUN npm run build', //                    6
  'COPY --chmod=0755 bin/*.sh /usr/bin/', // 7
  'CMD ["node", "src/index.js"]', //         8
].join('\n');

function project(): string {
  return makeDir({
    'package.json': '{"name":"demo"}\n',
    'src/index.js': 'console.log(1)\n',
    'src/lib/util.js': 'export {}\n',
    'bin/run.sh': '#!/bin/sh\n',
    'README.md': 'docs\n',
    'secret.env': 'TOKEN=abc\n',
    '.dockerignore': 'secret.env\n*.md\n',
  });
}

/** The keys of the steps after FROM, in instruction order: WORKDIR, COPY, RUN, COPY, RUN, COPY. */
const keys = async (dir: string, df = dockerfile) => {
  const p = await plan(df, { contextDir: dir });
  return p.targets[0]!.stages[0]!.entries.slice(1).flatMap((e) => (e.step ? [e.step] : []));
};

describe('cache keys', () => {
  it('are stable across plans and unchanged by touching every file', async () => {
    const dir = project();
    const before = await keys(dir);
    assert.deepEqual(await keys(dir), before);
    const later = new Date(Date.now() + 3_600_000);
    for (const f of ['package.json', 'src/index.js', 'src/lib/util.js', 'bin/run.sh', '.dockerignore']) utimesSync(join(dir, f), later, later);
    assert.deepEqual(await keys(dir), before);
  });

  it('are unchanged by edits to unrelated or ignored files', async () => {
    const dir = project();
    const before = await keys(dir);
    writeFile(dir, 'README.md', 'changed docs\n');
    writeFile(dir, 'secret.env', 'TOKEN=xyz\n');
    writeFile(dir, 'notes/todo.txt', 'new unrelated file\n');
    assert.deepEqual(await keys(dir), before);
  });

  it('change from the first COPY that sees an edited file onward, and not before', async () => {
    const dir = project();
    const before = await keys(dir);
    writeFile(dir, 'src/lib/util.js', 'export const x = 1\n');
    const after = await keys(dir);
    assert.deepEqual(after.slice(0, 3), before.slice(0, 3), 'steps before COPY src/ must keep their keys');
    for (let i = 3; i < 6; i++) assert.notEqual(after[i], before[i], `step ${i} must change`);
  });

  it('change with file mode, symlink target, added files and wildcard matches', async () => {
    const dir = project();
    let prev = await keys(dir);
    const changed = async (what: string) => {
      const next = await keys(dir);
      assert.notDeepEqual(next, prev, what);
      prev = next;
    };
    chmodSync(join(dir, 'src/index.js'), 0o755);
    await changed('mode change');
    symlinkSync('index.js', join(dir, 'src/link.js'));
    await changed('new symlink');
    unlinkSync(join(dir, 'src/link.js'));
    symlinkSync('lib/util.js', join(dir, 'src/link.js'));
    await changed('symlink target');
    writeFile(dir, 'bin/other.sh', 'echo\n');
    await changed('file matched by the wildcard');
    writeFile(dir, 'bin/other.txt', 'not matched\n');
    assert.deepEqual(await keys(dir), prev, 'file not matched by bin/*.sh');
  });

  it('change with any edit to what a step does', async () => {
    const dir = project();
    const base = await keys(dir);
    const variants = [
      dockerfile.replace('RUN npm ci', 'RUN npm install'),
      dockerfile.replace('WORKDIR /app', 'WORKDIR /srv'),
      dockerfile.replace('FROM busybox', 'FROM busybox:1.36'),
      dockerfile.replace('--chmod=0755', '--chmod=0700'),
      dockerfile.replace('WORKDIR /app', 'WORKDIR /app\nENV NODE_ENV=production'),
      dockerfile.replace('WORKDIR /app', 'WORKDIR /app\nUSER node'),
    ];
    for (const v of variants) {
      const k = await keys(dir, v);
      assert.notDeepEqual(k.at(-1), base.at(-1), `last step key should change for:\n${v}`);
    }
  });

  it('ignore comments, line numbers, spacing in JSON and config-only lines that do not affect steps', async () => {
    const dir = project();
    const base = await keys(dir);
    const same = [
      '# a comment\n\n' + dockerfile,
      dockerfile.replace('CMD ["node", "src/index.js"]', 'CMD [ "node" ,\t"src/index.js" ]'),
      dockerfile.replace('CMD ["node", "src/index.js"]', 'LABEL x=y\nEXPOSE 80\nCMD ["other"]'),
      dockerfile.replace('RUN npm ci', 'RUN npm\\\n ci'),
    ];
    for (const v of same) assert.deepEqual(await keys(dir, v), base, v);
  });

  it('do not depend on the order of object keys', () => {
    const a = keyStep({ kind: 'source', platform: 'linux/amd64', inputs: [], source: { type: 'image', ref: 'docker.io/library/busybox:latest' } });
    const b = keyStep(JSON.parse('{"source":{"ref":"docker.io/library/busybox:latest","type":"image"},"inputs":[],"platform":"linux/amd64","kind":"source"}'));
    assert.equal(a.key, b.key);
    assert.equal(canonicalJson({ b: 1, a: { d: 2, c: 3 } }), '{"a":{"c":3,"d":2},"b":1}');
  });

  it('apply .dockerignore exceptions and prefer <Dockerfile>.dockerignore', async () => {
    const dir = makeDir({
      'app/a.txt': 'a',
      'app/keep.txt': 'keep',
      'app/deep/b.txt': 'b',
      '.dockerignore': 'app\n!app/keep.txt\n',
      'build/Dockerfile.dev': 'FROM x\n',
      'build/Dockerfile.dev.dockerignore': 'app/deep\n',
    });
    const ctx = BuildContext.open(dir);
    assert.deepEqual(selectFromContext(ctx, '.').paths.filter((p) => p.startsWith('app')), ['app/keep.txt']);
    assert.throws(() => selectFromContext(ctx, 'app/a.txt'), /excluded by .*\.dockerignore/);
    const dev = BuildContext.open(dir, join(dir, 'build/Dockerfile.dev'));
    assert.deepEqual(selectFromContext(dev, 'app').paths, ['app', 'app/a.txt', 'app/keep.txt']);
  });

  it('select exactly the chosen files: directories, wildcards, --exclude, and nothing outside the context', () => {
    const dir = makeDir({ 'src/a.go': 'a', 'src/a_test.go': 't', 'src/sub/b.go': 'b', 'docs/x.md': 'x' });
    symlinkSync('/etc', join(dir, 'etc-link'));
    const ctx = BuildContext.open(dir);
    assert.deepEqual(selectFromContext(ctx, 'src').paths, ['src', 'src/a.go', 'src/a_test.go', 'src/sub', 'src/sub/b.go']);
    assert.deepEqual(selectFromContext(ctx, 'src/*.go').paths, ['src/a.go', 'src/a_test.go']);
    assert.deepEqual(selectFromContext(ctx, 'src', ['*_test.go']).paths, ['src', 'src/a.go', 'src/sub', 'src/sub/b.go']);
    assert.deepEqual(selectFromContext(ctx, '../../src/sub').paths, ['src/sub', 'src/sub/b.go']);
    assert.deepEqual(selectFromContext(ctx, 'nothing-*').paths, []);
    // A symlink to /etc is resolved inside the context, where /etc does not exist.
    assert.throws(() => selectFromContext(ctx, 'etc-link/passwd'), /not found in build context/);
    writeFileSync(join(dir, 'src/a.go'), 'changed');
    const fresh = BuildContext.open(dir);
    assert.notEqual(selectFromContext(fresh, 'src').checksum, selectFromContext(ctx, 'src').checksum);
  });

  it('keep secrets and cache ids out of keys by value', async () => {
    const df = 'FROM busybox\nRUN --mount=type=secret,id=npmrc --mount=type=cache,target=/root/.npm npm ci\n';
    const a = await plan(df, { secretIds: new Set(['npmrc']) });
    const b = await plan(df);
    assert.equal(stepAt(a, 2).key, stepAt(b, 2).key, 'whether a secret is provided does not change the key');
  });
});
