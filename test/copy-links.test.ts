import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parseBuildContextFlag } from '../coordinator/context/named-contexts.js';
import { ContextHashStore } from '../coordinator/context/file-hashes.js';
import { runBuild } from '../coordinator/solver/build.js';
import { contextOpener } from '../coordinator/solver/contexts.js';
import { localEngine } from '../coordinator/solver/local-build.js';
import { Progress } from '../coordinator/progress/progress.js';
import { hostPlatform } from '../oci/platform.js';
import { busyboxLayout, requireTools } from './engine-helpers.js';
import { makeDir, tempDir } from './helpers.js';

const dockerfile = 'FROM busybox\nCOPY src/ /src/\nCOPY --chmod=600 src/ /priv/\nRUN cat /src/a.txt /priv/sub/c.txt > /both\n';

/** Builds `dir` with the embedded engine in `cache`, reusing copies of files changed at any time before. */
async function build(dir: string, cache: string, out: string): Promise<string> {
  const layout = busyboxLayout();
  const namedContexts = new Map([parseBuildContextFlag(`busybox=oci-layout://${layout}`)].map((c) => [c.name, c] as const));
  const hashes = new ContextHashStore(cache, 0);
  const result = await runBuild(
    {
      plan: { dockerfileName: 'Dockerfile', dockerfileText: dockerfile, context: contextOpener(dir, join(dir, 'Dockerfile'), namedContexts, hashes), buildArgs: new Map([['SOURCE_DATE_EPOCH', '1700000000']]), platforms: [], buildPlatform: hostPlatform(), labels: new Map(), secretIds: new Set(), namedContexts },
      outputs: [{ type: 'local', dest: out }],
      tags: [],
      progress: new Progress('quiet'),
      noCache: false,
      noCacheFilter: [],
      secrets: { get: async () => undefined },
    },
    localEngine(cache, { layerWrites: 'lazy', linkUnchanged: true, settledMs: 0 }),
  );
  hashes.saveAll();
  return result.top.digest;
}

/** Regular files under the cache's snapshots that are named `name` and share their inode with another path. */
function linkedCopies(cache: string, name: string): string[] {
  return spawnSync('find', [join(cache, 'snapshots'), '-name', name, '-type', 'f', '-links', '+1'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
}

describe('COPY of a local context after an edit', () => {
  before(() => requireTools());

  it('links the unchanged files from the earlier copy and gives the image a fresh cache gives', async () => {
    const dir = makeDir({ Dockerfile: dockerfile, 'src/a.txt': 'a1', 'src/b.txt': 'b', 'src/sub/c.txt': 'c' });
    const cache = tempDir('links-cache');
    await build(dir, cache, tempDir('out'));
    assert.deepEqual(linkedCopies(cache, 'c.txt'), []);

    // Same size, mtime put back: only ctime tells the edit.
    const st = statSync(join(dir, 'src/a.txt'));
    writeFileSync(join(dir, 'src/a.txt'), 'a2');
    utimesSync(join(dir, 'src/a.txt'), st.atime, st.mtime);
    const out = tempDir('out');
    const digest = await build(dir, cache, out);
    assert.equal(readFileSync(join(out, 'src/a.txt'), 'utf8'), 'a2');
    assert.equal(readFileSync(join(out, 'both'), 'utf8'), 'a2c');
    assert.equal(statSync(join(out, 'priv/b.txt')).mode & 0o7777, 0o600);
    // Both COPYs (with and without --chmod) reused their earlier copies of the unchanged file.
    assert.equal(linkedCopies(cache, 'c.txt').length, 4);
    assert.deepEqual(linkedCopies(cache, 'a.txt'), []);

    assert.equal(digest, await build(dir, tempDir('fresh-cache'), tempDir('out')), 'the digest of a build on a fresh cache');
  });

  it('copies again when the earlier snapshot is gone', async () => {
    const dir = makeDir({ Dockerfile: dockerfile, 'src/a.txt': 'a1', 'src/b.txt': 'b', 'src/sub/c.txt': 'c' });
    const cache = tempDir('links-cache');
    await build(dir, cache, tempDir('out'));
    assert.equal(spawnSync('sh', ['-c', `rm -rf ${join(cache, 'snapshots')}/*/src ${join(cache, 'snapshots')}/*/priv`]).status, 0);
    writeFileSync(join(dir, 'src/b.txt'), 'B');
    const out = tempDir('out');
    await build(dir, cache, out);
    assert.equal(readFileSync(join(out, 'src/sub/c.txt'), 'utf8'), 'c');
    assert.equal(readFileSync(join(out, 'priv/b.txt'), 'utf8'), 'B');
  });
});
