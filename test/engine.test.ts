import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { tmpdir } from 'node:os';
import { busyboxLayout, buildOci, inspectConfig, requireTools, rootfsFile, runBundle, singlePlatform, unpack } from './engine-helpers.js';
import { makeDir } from './helpers.js';

before(() => {
  requireTools();
  busyboxLayout();
});

describe('the busybox base', () => {
  it('is a real image: umoci unpacks it and runc runs its shell', () => {
    const bundle = unpack(singlePlatform(busyboxLayout(), 'amd64'));
    assert.ok(statSync(join(bundle, 'rootfs/bin/busybox')).size > 100_000);
    assert.equal(readlinkSync(join(bundle, 'rootfs/bin/sh')), '/bin/busybox');
    assert.match(rootfsFile(bundle, 'etc/passwd'), /^root:x:0:0:/);
    // The mount points runc made while building (/proc, /dev, /sys) stay, as with BuildKit; its /etc/hosts stubs do not.
    assert.deepEqual(readdirSync(join(bundle, 'rootfs')).sort(), ['bin', 'dev', 'etc', 'proc', 'root', 'sys', 'tmp', 'usr']);
    assert.deepEqual(readdirSync(join(bundle, 'rootfs/etc')).sort(), ['group', 'passwd']);
    const r = runBundle(bundle, ['sh', '-c', 'echo hello from $(uname -s)']);
    assert.equal(r.stdout, 'hello from Linux\n', r.stderr);
  });

  it('is also an arm64 image, whose binaries run here under QEMU', () => {
    const index = JSON.parse(spawnSync('skopeo', ['inspect', '--raw', `oci:${busyboxLayout()}:latest`], { encoding: 'utf8' }).stdout) as { manifests: { platform: { architecture: string } }[] };
    assert.deepEqual(index.manifests.map((m) => m.platform.architecture), ['amd64', 'arm64']);
    const bundle = unpack(singlePlatform(busyboxLayout(), 'arm64'));
    const elf = readFileSync(join(bundle, 'rootfs/bin/busybox'));
    assert.equal(elf.readUInt16LE(18), 0xb7, 'e_machine is AArch64');
    const r = runBundle(bundle, ['uname', '-m']);
    assert.equal(r.stdout, 'aarch64\n', r.stderr);
  });
});

describe('building on it', () => {
  it('runs every instruction of a multi-stage Dockerfile and the image says so', () => {
    const dockerfile = [
      'FROM busybox AS build', //                                          1
      'ARG GREETING=hello', //                                             2
      'ENV APP_HOME=/opt/app', //                                          3
      'WORKDIR $APP_HOME', //                                              4
      'COPY src/ ./src/', //                                               5
      'RUN echo "$GREETING from build" > built.txt && ls src > listing', // 6
      'RUN ["sh", "-c", "echo exec-form > exec.txt"]', //                  7
      'RUN <<EOF', //                                                      8
      'echo heredoc line one > heredoc.txt', //                            9
      'echo line two >> heredoc.txt', //                                   10
      'EOF', //                                                            11
      'FROM busybox', //                                                   12
      'LABEL org.example.role=test', //                                    13
      'COPY --from=build /opt/app/built.txt /opt/app/exec.txt /opt/app/heredoc.txt /data/', // 14
      'COPY --chown=app:app --chmod=0640 config.ini /etc/app/', //         15
      'ADD bundle.tar /unpacked/', //                                      16
      'COPY <<EOF /etc/motd', //                                           17
      'built by $(whoami)', //                                             18
      'EOF', //                                                            19
      'USER app', //                                                       20
      'WORKDIR /home/app', //                                              21
      'EXPOSE 8080/tcp', //                                                22
      'VOLUME /cache', //                                                  23
      'STOPSIGNAL SIGINT', //                                              24
      'HEALTHCHECK --interval=10s CMD cat /data/built.txt', //             25
      'SHELL ["/bin/sh", "-c"]', //                                        26
      'ONBUILD RUN echo child', //                                         27
      'ENTRYPOINT ["/bin/sh", "-c"]', //                                   28
      'CMD ["cat /data/built.txt; id -u; pwd"]', //                        29
    ].join('\n');
    const packed = makeDir({ 'pkg/file.txt': 'packed\n' });
    const tar = spawnSync('tar', ['-C', packed, '-cf', '-', 'pkg'], { encoding: 'buffer' }).stdout;
    const b = buildOci({ Dockerfile: dockerfile, 'src/a.txt': 'a', 'src/b.txt': 'b', 'config.ini': '[app]\n', 'bundle.tar': tar });
    assert.equal(b.status, 0, b.stderr);
    const bundle = unpack(b.layout);
    assert.equal(rootfsFile(bundle, 'data/built.txt'), 'hello from build\n');
    assert.equal(rootfsFile(bundle, 'data/exec.txt'), 'exec-form\n');
    assert.equal(rootfsFile(bundle, 'data/heredoc.txt'), 'heredoc line one\nline two\n');
    assert.equal(rootfsFile(bundle, 'etc/motd'), 'built by $(whoami)\n');
    assert.equal(rootfsFile(bundle, 'unpacked/pkg/file.txt'), 'packed\n', 'ADD unpacks a local tar');
    const ini = lstatSync(join(bundle, 'rootfs/etc/app/config.ini'));
    assert.equal(ini.mode & 0o777, 0o640);
    assert.deepEqual([ini.uid, ini.gid], [1000, 1000]);
    const home = lstatSync(join(bundle, 'rootfs/home/app'));
    assert.deepEqual([home.uid, home.gid], [1000, 1000], 'WORKDIR made by USER app is owned by app');

    const img = inspectConfig(b.layout);
    const c = img.config;
    assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c']);
    assert.deepEqual(c.Cmd, ['cat /data/built.txt; id -u; pwd']);
    assert.equal(c.User, 'app');
    assert.equal(c.WorkingDir, '/home/app');
    assert.deepEqual(c.ExposedPorts, { '8080/tcp': {} });
    assert.deepEqual(c.Volumes, { '/cache': {} });
    assert.equal(c.StopSignal, 'SIGINT');
    assert.deepEqual(c.Labels, { 'org.example.role': 'test' });
    assert.deepEqual(c.OnBuild, ['RUN echo child']);
    assert.deepEqual((c.Healthcheck as { Test: string[] }).Test, ['CMD-SHELL', 'cat /data/built.txt']);
    // One non-empty history entry per layer.
    assert.equal(img.history.filter((h) => !h.empty_layer).length, img.rootfs.diff_ids.length);

    const run = runBundle(bundle);
    assert.equal(run.stdout, 'hello from build\n1000\n/home/app\n', run.stderr);
  });

  it('builds for two platforms into one index, running the foreign RUN under QEMU', () => {
    // `wc` is run by busybox's shell re-executing itself with argv[0] = "wc": under QEMU that needs
    // binfmt_misc's P flag (argv[0] preserved), which a registration without it loses.
    const b = buildOci({ Dockerfile: 'FROM busybox\nARG TARGETPLATFORM\nRUN echo "$TARGETPLATFORM $(uname -m)" > /arch && wc -c < /arch > /arch.len\n' }, ['--platform', 'linux/amd64,linux/arm64']);
    assert.equal(b.status, 0, b.stderr);
    const index = JSON.parse(spawnSync('skopeo', ['inspect', '--raw', `oci:${b.layout}:latest`], { encoding: 'utf8' }).stdout) as { mediaType: string; manifests: { platform: { os: string; architecture: string } }[] };
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`), ['linux/amd64', 'linux/arm64']);
    assert.equal(rootfsFile(unpack(singlePlatform(b.layout, 'amd64')), 'arch'), 'linux/amd64 x86_64\n');
    const arm = unpack(singlePlatform(b.layout, 'arm64'));
    assert.equal(rootfsFile(arm, 'arch'), 'linux/arm64 aarch64\n');
    assert.equal(rootfsFile(arm, 'arch.len').trim(), '20');
  });

  it('refuses a multi-platform result for docker load', () => {
    const r = buildOci({ Dockerfile: 'FROM busybox\n' }, ['--platform', 'linux/amd64,linux/arm64', '-o', `type=docker,dest=${join(tmpdir(), 'never.tar')}`]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /error: docker load cannot take a multi-platform image \(an index\): use --output type=oci, or build one --platform/);
  });
});
