import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { before, describe, it } from 'node:test';
import { extract as tarExtract, pack as tarPack } from 'tar-stream';
import { busyboxLayout, buildOci, freshCache, requireTools, unpack } from './engine-helpers.js';
import { cliPath, makeDir, tempDir } from './helpers.js';

before(() => {
  requireTools();
  busyboxLayout();
});

interface Entry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
}

/** The entries of every layer of the image tagged `tag` in an OCI layout, read from the layer tars themselves. */
async function layers(layout: string, tag = 'latest'): Promise<Map<string, Entry>[]> {
  const blob = (digest: string): Buffer => readFileSync(join(layout, 'blobs', 'sha256', digest.slice(7)));
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const top = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag)!;
  const manifest = JSON.parse(blob(top.digest).toString()) as { layers: { digest: string }[] };
  const out: Map<string, Entry>[] = [];
  for (const l of manifest.layers) {
    const entries = new Map<string, Entry>();
    const ex = tarExtract();
    ex.end(gunzipSync(blob(l.digest)));
    for await (const e of ex) {
      entries.set(e.header.name.replace(/\/$/, ''), { type: e.header.type ?? 'file', mode: e.header.mode ?? 0, uid: e.header.uid ?? 0, gid: e.header.gid ?? 0 });
      e.resume();
    }
    out.push(entries);
  }
  return out;
}

const modeOf = (e: Entry | undefined): string => (e === undefined ? 'absent' : (e.mode & 0o7777).toString(8));
const ownerOf = (e: Entry | undefined): string => (e === undefined ? 'absent' : `${e.uid}:${e.gid}`);

/** A build directory whose files have exactly the given modes (the test's umask does not apply). */
function contextWithModes(files: Record<string, [string, number]>, dockerfile: string): string {
  const dir = makeDir({ Dockerfile: dockerfile });
  for (const [path, [content, mode]] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
    chmodSync(join(dir, path), mode);
  }
  return dir;
}

async function tarOf(entries: { name: string; type?: 'file' | 'directory'; mode: number; uid?: number }[]): Promise<Buffer> {
  const pack = tarPack();
  for (const e of entries) pack.entry({ name: e.name, type: e.type ?? 'file', mode: e.mode, uid: e.uid ?? 0, gid: e.uid ?? 0 }, e.type === 'directory' ? '' : 'x');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('COPY --chmod', () => {
  it('applies symbolic modes per file, with X for directories and files already executable', async () => {
    const dir = contextWithModes(
      {
        'conf.txt': ['c', 0o664],
        'plain.txt': ['p', 0o604],
        'tool.sh': ['t', 0o644],
        'tree/run.sh': ['r', 0o755],
        'tree/data.txt': ['d', 0o644],
        'tree/sub/deep.txt': ['e', 0o600],
      },
      [
        'FROM busybox',
        'COPY --chmod=u+x,go-w conf.txt /s1/',
        'COPY --chmod=a=rX tree/ /s2/',
        'COPY --chmod=g=u,o= plain.txt /s3/',
        'COPY --chmod=+x tool.sh /s4/',
        'COPY --chmod=755 tool.sh /s5/',
        'COPY --chmod=u=rwX,go=rX tree/ /s6/',
      ].join('\n'),
    );
    chmodSync(join(dir, 'tree/sub'), 0o700);
    const b = buildOci({}, [], { dir });
    assert.equal(b.status, 0, b.stderr);
    const all = await layers(b.layout);
    const last = (i: number): Map<string, Entry> => all[all.length - 6 + i]!;
    assert.equal(modeOf(last(0).get('s1/conf.txt')), '744');
    assert.deepEqual(['s2', 's2/run.sh', 's2/data.txt', 's2/sub', 's2/sub/deep.txt'].map((p) => modeOf(last(1).get(p))), ['755', '555', '444', '555', '444'], 'a=rX; the created destination itself is 0755');
    assert.equal(modeOf(last(2).get('s3/plain.txt')), '660');
    assert.equal(modeOf(last(3).get('s4/tool.sh')), '755', '+x without who is every class, whatever the umask');
    assert.equal(modeOf(last(4).get('s5/tool.sh')), '755');
    assert.deepEqual(['s6/run.sh', 's6/data.txt', 's6/sub', 's6/sub/deep.txt'].map((p) => modeOf(last(5).get(p))), ['755', '644', '755', '644']);
  });

  it('applies an octal mode to the directories the copy creates, as BuildKit does', async () => {
    const dir = contextWithModes({ 'f.txt': ['f', 0o644], 'tree/x': ['x', 0o644] }, 'FROM busybox\nCOPY --chmod=0750 f.txt /oct/a/\nCOPY --chmod=0750 tree/ /octdir/\n');
    const b = buildOci({}, [], { dir });
    assert.equal(b.status, 0, b.stderr);
    const all = await layers(b.layout);
    const [a, t] = all.slice(-2);
    assert.deepEqual(['oct', 'oct/a', 'oct/a/f.txt'].map((p) => modeOf(a!.get(p))), ['750', '750', '750']);
    assert.deepEqual(['octdir', 'octdir/x'].map((p) => modeOf(t!.get(p))), ['750', '750']);
  });

  it('refuses a bad mode when planning, in one line naming the line', () => {
    for (const [mode, message] of [
      ['u+z', /^error: Dockerfile:2: invalid --chmod=u\+z: /m],
      ['0888', /^error: Dockerfile:2: invalid --chmod=0888: .*octal/m],
      ['17777', /^error: Dockerfile:2: invalid --chmod=17777: .*07777/m],
      ['u+x,', /^error: Dockerfile:2: invalid --chmod=u\+x,: /m],
    ] as const) {
      const b = buildOci({ Dockerfile: `FROM busybox\nCOPY --chmod=${mode} a.txt /\n`, 'a.txt': 'a' }, ['--dry-run']);
      assert.notEqual(b.status, 0, mode);
      assert.match(b.stderr, message);
      assert.equal(b.stderr.trim().split('\n').filter((l) => l.startsWith('error')).length, 1);
      assert.doesNotMatch(b.stderr, /^\s+at /m, 'no stack');
    }
  });
});

describe('directories a copy creates', () => {
  it('gives COPY --chown to the destination and its missing parents, 0755, and leaves existing ones alone', async () => {
    const dir = contextWithModes({ 'a.txt': ['a', 0o644], 'tree/x': ['x', 0o644] }, [
      'FROM busybox',
      'COPY --chown=1000:1000 a.txt /new/deep/dir/',
      'COPY --chown=1000:1000 tree/ /tdest/a/',
      'COPY --chown=1000:1000 a.txt /etc/',
      'COPY a.txt /plain/parent/a.txt',
    ].join('\n'));
    const b = buildOci({}, [], { dir });
    assert.equal(b.status, 0, b.stderr);
    const [c1, c2, c3, c4] = (await layers(b.layout)).slice(-4);
    for (const p of ['new', 'new/deep', 'new/deep/dir']) assert.deepEqual([ownerOf(c1!.get(p)), modeOf(c1!.get(p))], ['1000:1000', '755'], p);
    assert.equal(ownerOf(c1!.get('new/deep/dir/a.txt')), '1000:1000');
    for (const p of ['tdest', 'tdest/a', 'tdest/a/x']) assert.equal(ownerOf(c2!.get(p)), '1000:1000', p);
    assert.deepEqual([ownerOf(c2!.get('tdest/a')), modeOf(c2!.get('tdest/a'))], ['1000:1000', '755']);
    assert.equal(ownerOf(c3!.get('etc')), '0:0', 'a directory that existed keeps its owner');
    assert.equal(modeOf(c3!.get('etc')), '755');
    for (const p of ['plain', 'plain/parent']) assert.deepEqual([ownerOf(c4!.get(p)), modeOf(c4!.get(p))], ['0:0', '755'], p);
    // An independent reader sees the same.
    const rootfs = join(unpack(b.layout), 'rootfs');
    assert.equal(statSync(join(rootfs, 'new/deep')).uid, 1000);
  });

  it('creates ADD archive destinations 0755 (chowned with --chown) and directories implied by the archive 0755 and root-owned', async () => {
    const archive = await tarOf([
      { name: 'top/', type: 'directory', mode: 0o777 },
      { name: 'top/file', mode: 0o666, uid: 7 },
      { name: 'implied/deeper/file', mode: 0o640 },
    ]);
    const b = buildOci({ Dockerfile: 'FROM busybox\nADD pkg.tar /opt/x/\nADD --chown=1000:1000 pkg.tar /srv/y/\n', 'pkg.tar': archive });
    assert.equal(b.status, 0, b.stderr);
    const [plain, owned] = (await layers(b.layout)).slice(-2);
    assert.deepEqual(['opt', 'opt/x', 'opt/x/implied', 'opt/x/implied/deeper'].map((p) => modeOf(plain!.get(p))), ['755', '755', '755', '755']);
    assert.deepEqual(['opt/x/top', 'opt/x/top/file', 'opt/x/implied/deeper/file'].map((p) => modeOf(plain!.get(p))), ['777', '666', '640'], 'the archive modes as they are');
    assert.equal(ownerOf(plain!.get('opt/x/top/file')), '7:7');
    assert.deepEqual(['srv', 'srv/y'].map((p) => [ownerOf(owned!.get(p)), modeOf(owned!.get(p))]), [['1000:1000', '755'], ['1000:1000', '755']]);
    assert.deepEqual(['srv/y/top', 'srv/y/top/file', 'srv/y/implied/deeper/file'].map((p) => ownerOf(owned!.get(p))), ['1000:1000', '1000:1000', '1000:1000'], '--chown applies to the entries');
    assert.deepEqual(['srv/y/implied', 'srv/y/implied/deeper'].map((p) => [ownerOf(owned!.get(p)), modeOf(owned!.get(p))]), [['0:0', '755'], ['0:0', '755']]);
  });
});

describe('RUN mount points', () => {
  it('keeps /dev, /proc and /sys as 0755 directories and removes the stubs and new mount targets', async () => {
    const b = buildOci({
      Dockerfile: [
        'FROM busybox AS tools',
        'FROM scratch',
        'COPY --from=tools /bin/busybox /bin/busybox',
        'RUN ["/bin/busybox", "sh", "-c", "echo hi > /hello"]',
        'RUN --mount=type=tmpfs,target=/new/mnt --mount=type=cache,target=/var/cache/x ["/bin/busybox", "sh", "-c", "echo x > /data"]',
        'RUN --mount=type=tmpfs,target=/kept/mnt ["/bin/busybox", "sh", "-c", "echo y > /kept/file"]',
      ].join('\n'),
    });
    assert.equal(b.status, 0, b.stderr);
    const [, first, second, third] = await layers(b.layout);
    assert.deepEqual([...first!.keys()].sort(), ['dev', 'hello', 'proc', 'sys']);
    for (const p of ['dev', 'proc', 'sys']) assert.deepEqual([first!.get(p)!.type, modeOf(first!.get(p))], ['directory', '755'], p);
    assert.deepEqual([...second!.keys()].sort(), ['data'], 'no /etc/hosts, /etc/resolv.conf or new mount targets');
    assert.deepEqual([...third!.keys()].sort(), ['kept', 'kept/file'], 'a created parent the step wrote into stays; the mount target goes');
  });

  it('runs on a chain where a layer repeats one below it', () => {
    // Each second COPY writes the same file with the same metadata: the same layer twice in one chain,
    // in a row, and with a deletion between.
    for (const middle of ['', 'RUN rm /a.txt\n']) {
      const b = buildOci({ Dockerfile: `FROM busybox\nCOPY a.txt /a.txt\n${middle}COPY a.txt /a.txt\nRUN cat /a.txt > /b.txt\n`, 'a.txt': 'a' });
      assert.equal(b.status, 0, b.stderr);
      assert.equal(readFileSync(join(unpack(b.layout), 'rootfs/b.txt'), 'utf8'), 'a');
    }
  });

  it('leaves nothing of the stubs in the layer of a step on a base that has /etc', async () => {
    const b = buildOci({ Dockerfile: 'FROM busybox\nRUN echo x > /x\nRUN true\n' });
    assert.equal(b.status, 0, b.stderr);
    const all = await layers(b.layout);
    assert.deepEqual([...all.at(-1)!.keys()], ['x']);
  });
});

describe('the user\'s umask', () => {
  const dockerfile = [
    'FROM busybox',
    'COPY --chmod=0777 a.txt /exact/',
    'COPY --chmod=0666 a.txt /exact/rw.txt',
    'ADD pkg.tar /unpacked/',
    'WORKDIR /work/dir',
    'RUN mkdir /made && echo x > /made/file',
    // What a step sees: the root, a base image directory, a file and an archive directory.
    'RUN stat -c %a / /etc /bin/busybox /unpacked/open > /modes',
  ].join('\n');

  /** Builds `dockerfile` with the CLI run under `umask` (as a user's shell would) into several outputs, on a fresh cache. */
  async function buildUnderUmask(umask: string): Promise<{ out: string; mode(path: string): string; image: Map<string, Entry> }> {
    const out = tempDir(`umask${umask}`);
    const archive = await tarOf([{ name: 'open/', type: 'directory', mode: 0o777 }, { name: 'open/rw', mode: 0o666 }, { name: 'implied/f', mode: 0o644 }]);
    const dir = makeDir({ Dockerfile: dockerfile, 'a.txt': 'a', 'pkg.tar': archive });
    const args = ['build', '--progress', 'plain', '--cache-dir', freshCache(), '--build-context', `busybox=oci-layout://${busyboxLayout()}`, '-t', 'test:latest',
      '-o', `type=oci,dest=${join(out, 'layout')},tar=false`, '-o', `type=oci,dest=${join(out, 'image.tar')}`, '-o', `type=local,dest=${join(out, 'fs')}`,
      '--iidfile', join(out, 'iid'), '--metadata-file', join(out, 'meta.json'), dir];
    const r = spawnSync('sh', ['-c', `umask ${umask}; exec "$0" "$@"`, process.execPath, cliPath, ...args], { encoding: 'utf8', env: { ...process.env, DOCKYARD_DEBUG: '' } });
    assert.equal(r.status, 0, r.stderr);
    const image = new Map<string, Entry>();
    for (const l of await layers(join(out, 'layout'))) for (const [k, v] of l) image.set(k, v);
    return { out, mode: (p) => (lstatSync(join(out, p)).mode & 0o7777).toString(8), image };
  }

  it('governs what the user receives (022), while modes in the image stay exact', async () => {
    const { out, mode, image } = await buildUnderUmask('022');
    assert.deepEqual(['iid', 'meta.json', 'image.tar', 'layout/index.json', 'layout/oci-layout'].map(mode), ['644', '644', '644', '644', '644']);
    assert.deepEqual(['layout', 'layout/blobs', 'fs'].map(mode), ['755', '755', '755']);
    assert.deepEqual(['exact', 'exact/a.txt', 'exact/rw.txt'].map((p) => modeOf(image.get(p))), ['777', '777', '666'], 'the octal --chmod also makes the created /exact');
    assert.deepEqual(['unpacked/open', 'unpacked/open/rw'].map((p) => modeOf(image.get(p))), ['777', '666']);
    assert.deepEqual(['work', 'work/dir', 'made', 'made/file'].map((p) => modeOf(image.get(p))), ['755', '755', '755', '644']);
    assert.equal(mode('fs/exact/rw.txt'), '666', 'type=local keeps the image modes');
    assert.equal(readFileSync(join(out, 'fs/modes'), 'utf8'), '755\n755\n755\n777\n');
  });

  it('never leaks into the image (077): created directories are 0755, mount points and files exact', async () => {
    const { out, mode, image } = await buildUnderUmask('077');
    assert.deepEqual(['iid', 'meta.json', 'image.tar'].map(mode), ['600', '600', '600'], 'the outputs follow the umask');
    assert.deepEqual(['exact', 'unpacked', 'unpacked/implied', 'unpacked/open', 'work', 'work/dir', 'made', 'made/file'].map((p) => modeOf(image.get(p))), ['777', '755', '755', '777', '755', '755', '755', '644']);
    assert.deepEqual(['dev', 'proc', 'sys'].map((p) => modeOf(image.get(p))), ['755', '755', '755']);
    assert.equal(readFileSync(join(out, 'fs/modes'), 'utf8'), '755\n755\n755\n777\n', 'extracted and adopted snapshots keep exact modes');
  });
});
