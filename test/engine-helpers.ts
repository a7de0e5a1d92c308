import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDir, repoRoot, runCli, tempDir, type CliResult } from './helpers.js';

/** The system tools the engine tests use; a missing one fails the suite with what to install. */
export function requireTools(): void {
  const missing = ['runc', 'umoci', 'skopeo', 'getfattr', 'qemu-aarch64-static'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  for (const arch of ['amd64', 'arm64']) if (!existsSync(join(busyboxDir, arch, 'busybox'))) missing.push(`${busyboxDir}/${arch}/busybox`);
  assert.deepEqual(missing, [], `missing system parts: ${missing.join(', ')} (run: sudo bash scripts/setup.sh)`);
  assert.equal(process.getuid?.(), 0, 'the engine tests build real images and need root (run the suite as root)');
}

/** Static busybox per architecture, prepared by scripts/setup.sh. */
export const busyboxDir = process.env.DOCKYARD_BUSYBOX_DIR ?? '/var/lib/dockyard/busybox';

/** One cache for the whole test run, unless a test asks for a fresh one. */
export const sharedCache = tempDir('cache');

let busybox: string | undefined;

/**
 * An OCI layout of a busybox image for linux/amd64 and linux/arm64, built from Debian's
 * busybox-static by Dockyard itself (once per run; the arm64 half runs under QEMU).
 */
export function busyboxLayout(): string {
  if (busybox) return busybox;
  requireTools();
  const out = join(tempDir('busybox'), 'layout');
  const r = runCli(['build', '--progress', 'plain', '--cache-dir', sharedCache, '--platform', 'linux/amd64,linux/arm64', '--build-context', `busybox-bin=${busyboxDir}`, '-t', 'busybox:latest', '-o', `type=oci,dest=${out},tar=false`, join(repoRoot, 'examples', 'busybox')]);
  assert.equal(r.status, 0, r.stderr);
  busybox = out;
  return out;
}

export interface BuildOutcome extends CliResult {
  layout: string;
  dir: string;
}

/** Builds `files` (a Dockerfile among them) on the busybox base into an OCI layout tagged `test:latest`. */
export function buildOci(files: Record<string, string | Buffer>, extra: string[] = [], opts: { cache?: string; dir?: string; env?: NodeJS.ProcessEnv } = {}): BuildOutcome {
  const dir = opts.dir ?? makeDir(files);
  const layout = join(tempDir('out'), 'layout');
  const r = runCli(
    ['build', '--progress', 'plain', '--cache-dir', opts.cache ?? sharedCache, '--build-context', `busybox=oci-layout://${busyboxLayout()}`, '-t', 'test:latest', '-o', `type=oci,dest=${layout},tar=false`, ...extra, dir],
    opts.env ? { env: opts.env } : {},
  );
  return { ...r, layout, dir };
}

/** `umoci unpack`: an independent tool reads our image into a runtime bundle. */
export function unpack(layout: string, tag = 'latest'): string {
  const bundle = join(tempDir('bundle'), 'bundle');
  const r = spawnSync('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle], { encoding: 'utf8' });
  assert.equal(r.status, 0, `umoci unpack failed: ${r.stderr}`);
  return bundle;
}

export function rootfsFile(bundle: string, path: string): string {
  return readFileSync(join(bundle, 'rootfs', path), 'utf8');
}

/** One platform of a multi-platform layout, copied by skopeo into a layout of its own (umoci cannot choose). */
export function singlePlatform(layout: string, arch: string, tag = 'latest'): string {
  const out = join(tempDir('single'), 'layout');
  const r = spawnSync('skopeo', ['--override-arch', arch, 'copy', `oci:${layout}:${tag}`, `oci:${out}:${tag}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, `skopeo copy failed: ${r.stderr}`);
  return out;
}

/** Runs the bundle's entrypoint/cmd under runc and returns its output. */
export function runBundle(bundle: string, args?: string[]): { status: number | null; stdout: string; stderr: string } {
  const configPath = join(bundle, 'config.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { process: { terminal: boolean; args: string[] } };
  config.process.terminal = false;
  if (args) config.process.args = args;
  writeFileSync(configPath, JSON.stringify(config));
  const id = `dockyard-test-${process.pid}-${Math.random().toString(16).slice(2, 10)}`;
  const r = spawnSync('runc', ['run', '--bundle', bundle, id], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The OCI image config of the image tagged `tag` in a layout, read with skopeo. */
export function inspectConfig(layout: string, tag = 'latest'): { config: Record<string, unknown>; rootfs: { diff_ids: string[] }; history: { created_by?: string; empty_layer?: boolean }[]; created: string } {
  const r = spawnSync('skopeo', ['inspect', '--config', '--raw', `oci:${layout}:${tag}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Step lines of plain progress: which steps ran and which were cached. */
export function stepStates(stderr: string): { ran: string[]; cached: string[] } {
  const names = new Map<string, string>();
  const ran: string[] = [];
  const cached: string[] = [];
  for (const line of stderr.split('\n')) {
    const start = /^#(\d+) (\[.*)$/.exec(line);
    if (start) names.set(start[1]!, start[2]!);
    const end = /^#(\d+) (DONE|CACHED)/.exec(line);
    if (end && names.has(end[1]!)) (end[2] === 'CACHED' ? cached : ran).push(names.get(end[1]!)!);
  }
  return { ran, cached };
}

export function freshCache(): string {
  return tempDir('cache');
}

export { existsSync };
