import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { busyboxLayout, buildOci, freshCache, inspectConfig, requireTools, rootfsFile, stepStates, unpack } from './engine-helpers.js';
import { makeDir, tempDir } from './helpers.js';

/** Commits are dated long ago, so that a file time equal to the commit's cannot be the checkout's. */
const COMMIT_DATE = '2001-02-03T04:05:06Z';

/** Runs git in `cwd` with a fixed identity and date; fails the test with git's message. */
function git(cwd: string, ...args: string[]): string {
  const env = { ...process.env, GIT_AUTHOR_DATE: COMMIT_DATE, GIT_COMMITTER_DATE: COMMIT_DATE };
  const r = spawnSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8', env });
  assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A bare repository `name.git` under `root`, and a work tree that pushes to it. */
function makeRepo(root: string, name: string, files: Record<string, string>): { work: string; commit(files: Record<string, string>, message: string): string } {
  const bare = join(root, `${name}.git`);
  git(root, 'init', '-q', '--bare', bare);
  const work = tempDir('git-work');
  git(work, 'init', '-q');
  git(work, 'remote', 'add', 'origin', bare);
  const commit = (more: Record<string, string>, message: string): string => {
    for (const [path, content] of Object.entries(more)) {
      spawnSync('mkdir', ['-p', join(work, path, '..')]);
      writeFileSync(join(work, path), content);
    }
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', message);
    git(work, 'push', '-q', 'origin', 'HEAD:refs/heads/main');
    return git(work, 'rev-parse', 'HEAD');
  };
  commit(files, 'first');
  git(bare, 'symbolic-ref', 'HEAD', 'refs/heads/main');
  return { work, commit };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Waits until `git ls-remote` answers at `url` (the server runs in its own process). */
async function serving(url: string, server: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (server.exitCode !== null) throw new Error(`the git server exited (${server.exitCode})`);
    if (spawnSync('git', ['ls-remote', url], { encoding: 'utf8' }).status === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never answered`);
}

/** `git http-backend` behind a small node HTTP server, as a CGI: smart HTTP on loopback. */
const HTTP_BACKEND = `
const http = require('http');
const { spawn } = require('child_process');
const root = process.argv[1];
http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  const cgi = spawn('git', ['http-backend'], { env: { ...process.env, GIT_PROJECT_ROOT: root, GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: decodeURIComponent(u.pathname), QUERY_STRING: u.search.slice(1), REQUEST_METHOD: req.method,
    CONTENT_TYPE: req.headers['content-type'] || '', HTTP_CONTENT_ENCODING: req.headers['content-encoding'] || '',
    GIT_PROTOCOL: req.headers['git-protocol'] || '', REMOTE_ADDR: '127.0.0.1' } });
  req.pipe(cgi.stdin);
  let head = Buffer.alloc(0), sent = false;
  cgi.stdout.on('data', (d) => {
    if (sent) return void res.write(d);
    head = Buffer.concat([head, d]);
    const end = head.indexOf('\\r\\n\\r\\n');
    if (end < 0) return;
    let status = 200;
    for (const line of head.subarray(0, end).toString().split('\\r\\n')) {
      const [k, ...v] = line.split(':');
      if (k.toLowerCase() === 'status') status = parseInt(v.join(':'), 10);
      else res.setHeader(k, v.join(':').trim());
    }
    res.writeHead(status);
    sent = true;
    res.write(head.subarray(end + 4));
  });
  cgi.stdout.on('end', () => res.end());
}).listen(0, '127.0.0.1', function () { console.log(this.address().port); });
`;

let root: string;
let daemon: ChildProcess;
let httpServer: ChildProcess;
let gitUrl: string;
let httpUrl: string;
let repo: ReturnType<typeof makeRepo>;
let v1: string;
let main: string;

before(async () => {
  requireTools();
  busyboxLayout();
  root = tempDir('git-root');
  repo = makeRepo(root, 'repo', { 'README.md': 'version one\n', 'bin/run.sh': '#!/bin/sh\necho run\n', 'docs/guide.txt': 'the guide\n', 'docs/deep/note.txt': 'deep\n' });
  spawnSync('chmod', ['+x', join(repo.work, 'bin/run.sh')]);
  v1 = repo.commit({}, 'executable');
  git(repo.work, 'tag', '-a', 'v1', '-m', 'release one');
  git(repo.work, 'push', '-q', 'origin', 'refs/tags/v1');
  main = repo.commit({ 'README.md': 'version two\n' }, 'second');

  const port = await freePort();
  daemon = spawn('git', ['daemon', '--export-all', `--base-path=${root}`, '--listen=127.0.0.1', `--port=${port}`, '--reuseaddr', root], { stdio: 'ignore' });
  gitUrl = `git://127.0.0.1:${port}/repo.git`;
  await serving(gitUrl, daemon);

  httpServer = spawn(process.execPath, ['-e', HTTP_BACKEND, root], { stdio: ['ignore', 'pipe', 'inherit'] });
  const httpPort = await new Promise<string>((r) => httpServer.stdout!.once('data', (d: Buffer) => r(d.toString().trim())));
  httpUrl = `http://127.0.0.1:${httpPort}/repo.git`;
  await serving(httpUrl, httpServer);
});

after(() => {
  daemon?.kill();
  httpServer?.kill();
});

function built(dockerfile: string, opts: { cache?: string } = {}): string {
  const b = buildOci({ Dockerfile: dockerfile }, [], opts);
  assert.equal(b.status, 0, b.stderr);
  return unpack(b.layout);
}

describe('ADD of a git repository', () => {
  it('checks out a branch, an annotated tag, a commit and the default branch, without .git', () => {
    const bundle = built(`FROM busybox\nADD ${gitUrl}#main /src/branch\nADD ${gitUrl}#v1 /src/tag\nADD ${gitUrl}#${v1} /src/commit\nADD ${gitUrl} /src/default\n`);
    assert.equal(rootfsFile(bundle, 'src/branch/README.md'), 'version two\n');
    assert.equal(rootfsFile(bundle, 'src/tag/README.md'), 'version one\n');
    assert.equal(rootfsFile(bundle, 'src/commit/README.md'), 'version one\n');
    assert.equal(rootfsFile(bundle, 'src/default/README.md'), 'version two\n');
    for (const dir of ['branch', 'tag', 'commit', 'default']) {
      assert.equal(existsSync(join(bundle, 'rootfs/src', dir, '.git')), false, `${dir}: no .git without --keep-git-dir`);
      assert.equal(rootfsFile(bundle, `src/${dir}/docs/deep/note.txt`), 'deep\n');
    }
    // Modes as git checks them out under umask 022, owned by root.
    const script = lstatSync(join(bundle, 'rootfs/src/branch/bin/run.sh'));
    const readme = lstatSync(join(bundle, 'rootfs/src/branch/README.md'));
    assert.deepEqual([script.mode & 0o7777, readme.mode & 0o7777, lstatSync(join(bundle, 'rootfs/src/branch/docs')).mode & 0o7777], [0o755, 0o644, 0o755]);
    assert.deepEqual([readme.uid, readme.gid], [0, 0]);
  });

  it('takes a subdirectory from the fragment or the query, and the ref from the query', () => {
    const bundle = built(`FROM busybox\nADD ${gitUrl}#main:docs /frag/\nADD ${gitUrl}?ref=v1&subdir=docs/deep /query/\nADD ${gitUrl}?tag=v1 /tag/\n`);
    assert.equal(rootfsFile(bundle, 'frag/guide.txt'), 'the guide\n');
    assert.equal(rootfsFile(bundle, 'frag/deep/note.txt'), 'deep\n');
    assert.equal(existsSync(join(bundle, 'rootfs/frag/README.md')), false);
    assert.equal(rootfsFile(bundle, 'query/note.txt'), 'deep\n');
    assert.equal(existsSync(join(bundle, 'rootfs/query/guide.txt')), false);
    assert.equal(rootfsFile(bundle, 'tag/README.md'), 'version one\n');
  });

  it('keeps .git with --keep-git-dir or ?keep-git-dir=1, at the checked-out commit', () => {
    const bundle = built(`FROM busybox\nADD --keep-git-dir ${gitUrl}#main /flag\nADD ${gitUrl}?ref=v1&keep-git-dir=1 /query\nADD --keep-git-dir=false ${gitUrl}#main /off\n`);
    assert.equal(git(join(bundle, 'rootfs/flag'), 'rev-parse', 'HEAD'), main);
    assert.equal(git(join(bundle, 'rootfs/query'), 'rev-parse', 'HEAD'), v1);
    assert.equal(git(join(bundle, 'rootfs/query'), 'cat-file', '-t', 'v1'), 'tag', 'the annotated tag comes along');
    assert.equal(git(join(bundle, 'rootfs/flag'), 'remote', 'get-url', 'origin'), gitUrl);
    assert.equal(git(join(bundle, 'rootfs/flag'), 'status', '--porcelain'), '', 'the work tree matches its commit');
    assert.equal(existsSync(join(bundle, 'rootfs/off/.git')), false);
    assert.equal(rootfsFile(bundle, 'off/README.md'), 'version two\n');
  });

  it('checks out submodules (relative URLs too) unless ?submodules=false; ?mtime=commit gives every file the commit time', () => {
    const sup = makeRepo(root, 'super', { 'top.txt': 'top\n' });
    git(sup.work, '-c', 'protocol.file.allow=always', 'submodule', '-q', 'add', '../repo.git', 'libs/repo');
    const commit = sup.commit({}, 'add a submodule');
    const url = gitUrl.replace('/repo.git', '/super.git');
    const bundle = built(`FROM busybox\nADD ${url}#main /with\nADD ${url}?ref=main&submodules=false /without\nADD ${url}?ref=${commit}&mtime=commit /timed\n`);
    assert.equal(rootfsFile(bundle, 'with/libs/repo/README.md'), 'version two\n');
    assert.equal(existsSync(join(bundle, 'rootfs/with/libs/repo/.git')), false, 'no pointer into a git directory that is not there');
    assert.equal(existsSync(join(bundle, 'rootfs/without/libs/repo/README.md')), false);
    assert.ok(lstatSync(join(bundle, 'rootfs/without/libs/repo')).isDirectory());
    const when = Date.parse(COMMIT_DATE) / 1000;
    assert.notEqual(Math.floor(lstatSync(join(bundle, 'rootfs/with/top.txt')).mtimeMs / 1000), when, 'by default, the time of the checkout');
    for (const path of ['timed/top.txt', 'timed/libs/repo/README.md', 'timed/libs']) assert.equal(Math.floor(lstatSync(join(bundle, 'rootfs', path)).mtimeMs / 1000), when, path);
  });

  it('treats http URLs ending in .git as git (smart HTTP through git http-backend)', () => {
    const bundle = built(`FROM busybox\nADD ${httpUrl}#v1 /h/\nADD ${httpUrl}#main:docs /d/\n`);
    assert.equal(rootfsFile(bundle, 'h/README.md'), 'version one\n');
    assert.equal(rootfsFile(bundle, 'd/guide.txt'), 'the guide\n');
  });

  it('keys the step by the commit: a new commit on the branch runs it again, no change is cached', () => {
    const own = makeRepo(root, 'moving', { 'data.txt': 'first\n' });
    const url = gitUrl.replace('/repo.git', '/moving.git');
    const cache = freshCache();
    const dir = makeDir({ Dockerfile: `FROM busybox\nADD ${url}#main /data\nRUN cat /data/data.txt > /copy\n` });
    const first = buildOci({}, [], { cache, dir });
    assert.equal(first.status, 0, first.stderr);
    assert.equal(rootfsFile(unpack(first.layout), 'copy'), 'first\n');

    const same = buildOci({}, [], { cache, dir });
    assert.equal(same.status, 0, same.stderr);
    const cached = stepStates(same.stderr);
    assert.ok(cached.cached.some((s) => s.includes('ADD')) && !cached.ran.some((s) => s.includes('ADD') || s.includes('RUN')), same.stderr);

    own.commit({ 'data.txt': 'second\n' }, 'move the branch');
    const moved = buildOci({}, [], { cache, dir });
    assert.equal(moved.status, 0, moved.stderr);
    const states = stepStates(moved.stderr);
    assert.ok(states.ran.some((s) => s.includes('ADD')) && states.ran.some((s) => s.includes('RUN')), moved.stderr);
    assert.equal(rootfsFile(unpack(moved.layout), 'copy'), 'second\n');
  });

  it('verifies --checksum (and ?checksum=) against the commit; a mismatch is one line naming the URL', () => {
    const ok = built(`FROM busybox\nADD --checksum=${main} ${gitUrl}#main /full\nADD --checksum=${v1.slice(0, 12)} ${gitUrl}#v1 /prefix\nADD ${gitUrl}?ref=main&checksum=${main} /query\n`);
    assert.equal(rootfsFile(ok, 'full/README.md'), 'version two\n');
    assert.equal(rootfsFile(ok, 'prefix/README.md'), 'version one\n');
    assert.equal(rootfsFile(ok, 'query/README.md'), 'version two\n');

    const bad = buildOci({ Dockerfile: `FROM busybox\nADD --checksum=${v1} ${gitUrl}#main /src\n` });
    assert.notEqual(bad.status, 0);
    const lines = bad.stderr.trim().split('\n');
    assert.equal(lines.length, 1, bad.stderr);
    assert.equal(lines[0], `error: Dockerfile:2: ADD ${gitUrl}#main: checksum mismatch: --checksum=${v1} but the commit is ${main}`);
  });

  it('never shows a remote credential in the plan, progress or history', () => {
    const withCreds = httpUrl.replace('http://', 'http://someone:s3cret@');
    const b = buildOci({ Dockerfile: `FROM busybox\nADD ${withCreds}#main /src\n` }, ['--metadata-file', join(tempDir('meta'), 'm.json')]);
    assert.equal(b.status, 0, b.stderr);
    assert.equal(rootfsFile(unpack(b.layout), 'src/README.md'), 'version two\n');
    assert.doesNotMatch(b.stderr, /s3cret/);
    const dryRun = buildOci({ Dockerfile: `FROM busybox\nADD ${withCreds}#main /src\n` }, ['--dry-run']);
    assert.equal(dryRun.status, 0, dryRun.stderr);
    assert.doesNotMatch(dryRun.stdout + dryRun.stderr, /s3cret/);
    const history = inspectConfig(b.layout).history.map((h) => h.created_by ?? '');
    assert.ok(history.some((h) => h.startsWith('ADD http://xxxxx:xxxxx@127.0.0.1:')), history.join('\n'));
    assert.doesNotMatch(history.join('\n'), /s3cret/);
  });
});
