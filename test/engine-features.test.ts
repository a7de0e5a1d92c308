import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { pack as tarPack } from 'tar-stream';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { busyboxLayout, buildOci, freshCache, inspectConfig, requireTools, rootfsFile, runBundle, singlePlatform, unpack } from './engine-helpers.js';
import { cliPath, makeDir, repoRoot, runCli, tempDir } from './helpers.js';

before(() => {
  requireTools();
  busyboxLayout();
});

/** Every regular file below `dir`, recursively. */
function allFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out;
}

describe('RUN mounts', () => {
  it('keeps a cache mount across builds, out of the layers', () => {
    const cache = freshCache();
    const df = 'FROM busybox\nARG N\nRUN --mount=type=cache,target=/var/cache/app sh -c "echo run$N >> /var/cache/app/log; cat /var/cache/app/log > /seen"\n';
    const first = buildOci({ Dockerfile: df }, ['--build-arg', 'N=1'], { cache });
    assert.equal(first.status, 0, first.stderr);
    const second = buildOci({ Dockerfile: df }, ['--build-arg', 'N=2'], { cache });
    const bundle = unpack(second.layout);
    assert.equal(rootfsFile(bundle, 'seen'), 'run1\nrun2\n');
    assert.ok(!existsSync(join(bundle, 'rootfs/var/cache/app/log')), 'the cache mount content is not in the image');
  });

  it('mounts a secret as a file and an env var, and its value is written nowhere', () => {
    const value = `s3cr3t-${Math.random().toString(36).slice(2)}`;
    const digest = createHash('sha256').update(value).digest('hex');
    const cache = freshCache();
    const secretFile = join(makeDir({ token: value }), 'token');
    const df = [
      'FROM busybox',
      'RUN --mount=type=secret,id=tok,required=true sha256sum /run/secrets/tok | cut -d" " -f1 > /file-sum',
      'RUN --mount=type=secret,id=tok,env=TOKEN printf %s "$TOKEN" | sha256sum | cut -d" " -f1 > /env-sum',
      'RUN --mount=type=secret,id=tok,target=/etc/token,mode=0400 stat -c %a /etc/token > /mode',
      'RUN --mount=type=secret,id=absent ls /run/secrets > /absent 2>&1 || echo none > /absent',
    ].join('\n');
    const meta = join(cache, 'meta.json');
    const b = buildOci({ Dockerfile: df }, ['--secret', `id=tok,src=${secretFile}`, '--metadata-file', meta], { cache });
    assert.equal(b.status, 0, b.stderr);
    const bundle = unpack(b.layout);
    assert.equal(rootfsFile(bundle, 'file-sum').trim(), digest, 'the file mount holds the secret');
    assert.equal(rootfsFile(bundle, 'env-sum').trim(), digest, 'the env mount holds the secret');
    assert.equal(rootfsFile(bundle, 'mode').trim(), '400');
    assert.equal(rootfsFile(bundle, 'absent').trim(), 'none', 'an optional secret that was not given is not mounted');
    assert.ok(!existsSync(join(bundle, 'rootfs/run/secrets')), 'no secret mount point left in the image');
    // Grep every byte the build wrote: the cache, the image, the metadata file and the output.
    for (const f of [...allFiles(cache), ...allFiles(b.layout)]) assert.ok(!readFileSync(f).includes(value), `secret value found in ${f}`);
    assert.ok(!b.stdout.includes(value) && !b.stderr.includes(value));
    // Without the secret, a required mount fails with a clear message.
    const missing = buildOci({ Dockerfile: df }, [], { cache });
    assert.match(missing.stderr, /error: Dockerfile:2: secret tok is required but was not provided: pass --secret id=tok/);
  });

  it('binds the context and other stages read-only, and tmpfs leaves nothing behind', () => {
    const df = [
      'FROM busybox AS tools',
      'RUN echo tool-output > /tool.txt',
      'FROM busybox',
      'RUN --mount=type=bind,source=data,target=/mnt/data cat /mnt/data/in.txt > /from-context',
      'RUN --mount=type=bind,from=tools,source=/tool.txt,target=/mnt/tool.txt cat /mnt/tool.txt > /from-stage',
      'RUN --mount=type=bind,target=/mnt/ctx sh -c "touch /mnt/ctx/new 2>/dev/null && echo writable || echo read-only" > /ctx-mode',
      'RUN --mount=type=bind,target=/mnt/ctx ls /mnt/ctx > /ctx-list',
      'RUN --mount=type=tmpfs,target=/scratch sh -c "echo temp > /scratch/t && cat /scratch/t > /from-tmpfs"',
    ].join('\n');
    const b = buildOci({ Dockerfile: df, 'data/in.txt': 'context data\n', 'ignored.txt': 'x', '.dockerignore': 'ignored.txt\n' });
    assert.equal(b.status, 0, b.stderr);
    const bundle = unpack(b.layout);
    assert.equal(rootfsFile(bundle, 'from-context'), 'context data\n');
    assert.equal(rootfsFile(bundle, 'from-stage'), 'tool-output\n');
    assert.equal(rootfsFile(bundle, 'ctx-mode'), 'read-only\n');
    assert.deepEqual(rootfsFile(bundle, 'ctx-list').trim().split('\n').sort(), ['Dockerfile', 'data'], 'ignored files are not visible in a bind mount');
    assert.equal(rootfsFile(bundle, 'from-tmpfs'), 'temp\n');
    assert.ok(!existsSync(join(bundle, 'rootfs/scratch/t')));
    assert.ok(!existsSync(join(b.dir, 'new')), 'the context was not written to');
  });

  it('gives --network=none its own network namespace', () => {
    const b = buildOci({ Dockerfile: 'FROM busybox\nRUN --network=none sh -c "ls /sys/class/net | sort | tr \'\\n\' \' \' > /ifaces"\n' });
    assert.equal(b.status, 0, b.stderr);
    assert.equal(rootfsFile(unpack(b.layout), 'ifaces').trim(), 'lo');
  });
});

/** A tar archive with exactly these entries, names unchecked: GNU tar would sanitise them. */
async function tarOf(entries: { name: string; body: string }[]): Promise<Buffer> {
  const pack = tarPack();
  for (const e of entries) pack.entry({ name: e.name, mode: 0o644 }, e.body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('COPY and ADD', () => {
  it('follows Docker semantics for directories, wildcards, --from, --exclude, --parents and .dockerignore', () => {
    const df = [
      'FROM busybox',
      'COPY dir /copied-dir/',
      'COPY *.txt /wild/',
      'COPY --exclude=*.log logs/ /logs/',
      'COPY --parents a/b/c.txt a/d/e.txt /par/',
      'COPY one.txt /renamed.txt',
      'COPY . /all/',
      'COPY --link one.txt /linked/',
    ].join('\n');
    const b = buildOci({
      Dockerfile: df,
      'dir/x': 'x',
      'dir/sub/y': 'y',
      'one.txt': '1',
      'two.txt': '2',
      'logs/keep.md': 'k',
      'logs/drop.log': 'd',
      'a/b/c.txt': 'c',
      'a/d/e.txt': 'e',
      'secret.env': 'TOKEN=1',
      '.dockerignore': 'secret.env\n',
    });
    assert.equal(b.status, 0, b.stderr);
    const r = (p: string): string => rootfsFile(unpack(b.layout), p);
    const bundle = unpack(b.layout);
    const has = (p: string): boolean => existsSync(join(bundle, 'rootfs', p));
    assert.ok(has('copied-dir/x') && has('copied-dir/sub/y') && !has('copied-dir/dir'), 'a directory source copies its contents');
    assert.deepEqual(readdirSync(join(bundle, 'rootfs/wild')).sort(), ['one.txt', 'two.txt']);
    assert.deepEqual(readdirSync(join(bundle, 'rootfs/logs')), ['keep.md']);
    assert.ok(has('par/a/b/c.txt') && has('par/a/d/e.txt'));
    assert.equal(r('renamed.txt'), '1');
    assert.ok(has('all/one.txt') && !has('all/secret.env'), '.dockerignore applies to COPY .');
    assert.ok(has('linked/one.txt'));
    // Files from the context belong to root whatever their owner on disk.
    assert.deepEqual([statSync(join(bundle, 'rootfs/renamed.txt')).uid, statSync(join(bundle, 'rootfs/renamed.txt')).gid], [0, 0]);
  });

  it('refuses an ADD archive whose entries escape the destination', async () => {
    const evil = await tarOf([{ name: 'ok.txt', body: 'fine' }, { name: '../../escape', body: 'pwned' }]);
    const b = buildOci({ Dockerfile: 'FROM busybox\nADD evil.tar /dst/\n', 'evil.tar': evil });
    assert.notEqual(b.status, 0);
    assert.match(b.stderr, /error: Dockerfile:2: ADD evil\.tar \/dst\/: layer entry "\.\.\/\.\.\/escape" escapes the layer/);
  });

  it('never follows a context symlink out of the context', () => {
    const dir = makeDir({ Dockerfile: 'FROM busybox\nCOPY link/passwd /stolen\n' });
    spawnSync('ln', ['-s', '/etc', join(dir, 'link')]);
    const b = buildOci({}, [], { dir });
    assert.notEqual(b.status, 0);
    assert.match(b.stderr, /link\/passwd: not found in build context/);
  });
});

describe('ADD from a URL', () => {
  it('downloads over HTTP, checks --checksum, and keys the step by the content', async () => {
    // The server runs in its own process: the builds below block this one.
    const root = makeDir({ 'files/tool.txt': 'release v1\n' });
    const server = spawn(process.execPath, ['-e', `require('http').createServer((q, s) => require('fs').readFile(${JSON.stringify(root)} + q.url, (e, d) => e ? s.writeHead(404).end() : s.end(d))).listen(0, '127.0.0.1', function () { console.log(this.address().port) })`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<string>((r) => server.stdout!.once('data', (d: Buffer) => r(d.toString().trim())));
    const url = `http://127.0.0.1:${port}/files/tool.txt`;
    let body = 'release v1\n';
    try {
      const sum = (s: string): string => 'sha256:' + createHash('sha256').update(s).digest('hex');
      const cache = freshCache();
      const dir = makeDir({ Dockerfile: `FROM busybox\nADD --checksum=${sum(body)} ${url} /opt/\nADD ${url} /opt/copy.txt\nRUN cat /opt/tool.txt /opt/copy.txt > /both\n` });
      const first = buildOci({}, [], { cache, dir });
      assert.equal(first.status, 0, first.stderr);
      const bundle = unpack(singlePlatform(first.layout, 'amd64'));
      assert.equal(rootfsFile(bundle, 'both'), 'release v1\nrelease v1\n');
      assert.equal(statSync(join(bundle, 'rootfs/opt/tool.txt')).mode & 0o777, 0o600);
      body = 'release v2\n';
      writeFileSync(join(root, 'files/tool.txt'), body);
      const changed = buildOci({}, [], { cache, dir });
      assert.match(changed.stderr, /error: Dockerfile:2: ADD http:\/\/127\.0\.0\.1:\d+\/files\/tool\.txt: checksum mismatch/);
      writeFileSync(join(dir, 'Dockerfile'), `FROM busybox\nADD ${url} /opt/copy.txt\nRUN cat /opt/copy.txt > /both\n`);
      const again = buildOci({}, [], { cache, dir });
      assert.equal(again.status, 0, again.stderr);
      assert.equal(rootfsFile(unpack(singlePlatform(again.layout, 'amd64')), 'both'), 'release v2\n', 'new content, new key: not the cached v1');
      const missing = buildOci({ Dockerfile: `FROM busybox\nADD ${url}.nope /x\n` });
      assert.match(missing.stderr, /error: Dockerfile:2: ADD .*tool\.txt\.nope: the server answered HTTP 404/);
    } finally {
      server.kill();
    }
  });
});

describe('outputs', () => {
  it('writes a docker archive that skopeo reads, a local directory, and a tar of the filesystem', () => {
    const out = tempDir('outputs');
    const dir = makeDir({ Dockerfile: 'FROM busybox\nRUN echo hi > /hi\nCMD ["cat", "/hi"]\n' });
    const r = runCli(['build', '--progress', 'quiet', '--build-context', `busybox=oci-layout://${busyboxLayout()}`, '-t', 'example.com/team/app:1',
      '-o', `type=docker,dest=${out}/image.tar`, '-o', `type=local,dest=${out}/fs`, '-o', `type=tar,dest=${out}/fs.tar`, '--iidfile', `${out}/iid`, dir]);
    assert.equal(r.status, 0, r.stderr);
    const inspect = spawnSync('skopeo', ['inspect', `docker-archive:${out}/image.tar`], { encoding: 'utf8' });
    assert.equal(inspect.status, 0, inspect.stderr);
    const info = JSON.parse(inspect.stdout) as { RepoTags: string[]; Architecture: string; Layers: string[] };
    assert.equal(info.Architecture, 'amd64');
    assert.equal(info.Layers.length, 5);
    const manifest = JSON.parse(spawnSync('tar', ['-xOf', `${out}/image.tar`, 'manifest.json'], { encoding: 'utf8' }).stdout) as { RepoTags: string[]; Config: string }[];
    assert.deepEqual(manifest[0]!.RepoTags, ['example.com/team/app:1']);
    assert.equal(readFileSync(`${out}/iid`, 'utf8'), 'sha256:' + manifest[0]!.Config.split('/').at(-1));
    assert.equal(readFileSync(join(out, 'fs/hi'), 'utf8'), 'hi\n');
    assert.equal(readlinkSync(join(out, 'fs/bin/sh')), '/bin/busybox');
    const list = spawnSync('tar', ['-tf', `${out}/fs.tar`], { encoding: 'utf8' }).stdout.split('\n');
    assert.ok(list.includes('hi') && list.includes('bin/busybox'));
    assert.equal(r.stdout.trim().length, 71, 'the image digest goes to stdout');
  });
});

describe('reproducibility and failures', () => {
  it('gives the same digest for the same inputs and SOURCE_DATE_EPOCH on fresh caches', () => {
    const files = { Dockerfile: 'FROM busybox\nCOPY app.txt /app/\nRUN echo built > /app/out && touch /app/stamp\n', 'app.txt': 'v1\n' };
    const a = buildOci(files, ['--build-arg', 'SOURCE_DATE_EPOCH=1700000000'], { cache: freshCache() });
    const b = buildOci(files, ['--build-arg', 'SOURCE_DATE_EPOCH=1700000000'], { cache: freshCache() });
    assert.equal(a.status, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    assert.equal(inspectConfig(a.layout).created, '2023-11-14T22:13:20.000Z');
    const c = buildOci(files, [], { cache: freshCache() });
    assert.notEqual(c.stdout, a.stdout, 'without the epoch, times differ');
  });

  it('says clearly that building needs root', () => {
    const dir = makeDir({ Dockerfile: 'FROM scratch\n' });
    spawnSync('chmod', ['-R', 'a+rX', dir]);
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cliPath, 'build', dir], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'error: building needs root: it mounts overlay filesystems and runs steps with runc. Run it with sudo (--dry-run does not need root)\n');
    const dry = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cliPath, 'build', '--dry-run', dir], { encoding: 'utf8' });
    assert.equal(dry.status, 0, dry.stderr);
  });

  it('reports a failed RUN with its exit code, Dockerfile line and output tail', () => {
    const b = buildOci({ Dockerfile: 'FROM busybox\nRUN echo first line\nRUN echo about to fail; echo on stderr >&2; exit 3\n' });
    assert.equal(b.status, 1);
    assert.match(b.stderr, /#\d+ ERROR: process "\/bin\/sh -c echo about to fail; echo on stderr >&2; exit 3" did not complete successfully: exit code: 3/);
    // stdout and stderr come through separate pipes, so their lines may interleave either way.
    const tail = /------\n > \[stage-0 3\/3\] RUN echo about to fail; echo on stderr >&2; exit 3:\n([^]*?)------\n/.exec(b.stderr);
    assert.ok(tail, b.stderr);
    assert.deepEqual(tail[1]!.trim().split('\n').sort(), ['about to fail', 'on stderr']);
    assert.match(b.stderr, /\nerror: Dockerfile:3: RUN echo about to fail; echo on stderr >&2; exit 3: process .* exit code: 3\n$/);
    assert.doesNotMatch(b.stderr, /\n\s+at /, 'no stack trace');
  });
});

describe('the copying fallback', () => {
  it('gives the same filesystem as overlay snapshots, deletions included', () => {
    const files = {
      Dockerfile: 'FROM busybox\nRUN rm /bin/ls && mkdir -p /data/sub && echo x > /data/f && rm -rf /root && chmod 700 /tmp\nCOPY f.txt /data/\nRUN echo two >> /data/f && rm -r /data/sub && ln -s /data/f /link\n',
      'f.txt': 'from the context\n',
    };
    const listing = (mode: string): string => {
      const b = buildOci(files, [], { cache: freshCache(), env: { DOCKYARD_SNAPSHOTTER: mode } });
      assert.equal(b.status, 0, b.stderr);
      const root = join(unpack(singlePlatform(b.layout, 'amd64')), 'rootfs');
      return spawnSync('sh', ['-c', 'find . -printf "%p %y %m %U %s %l\\n" | sort && cat data/f data/f.txt'], { cwd: root, encoding: 'utf8' }).stdout;
    };
    const overlay = listing('overlay');
    assert.match(overlay, /\n\.\/link l 777 0 7 \/data\/f\n/);
    assert.doesNotMatch(overlay, /\.\/bin\/ls |\.\/root |\.\/data\/sub /);
    assert.match(overlay, /\n\.\/tmp d 700 /);
    assert.equal(listing('copy'), overlay);
  });
});

describe('the running image', () => {
  it('runs the bundled example under runc from the OCI output', () => {
    const b = buildOci({}, [], { dir: join(repoRoot, 'examples', 'hello') });
    assert.equal(b.status, 0, b.stderr);
    const run = runBundle(unpack(b.layout));
    assert.equal(run.stdout, 'Hello from Dockyard, running on x86_64\n', run.stderr);
  });
});
