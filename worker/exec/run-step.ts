import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Layer } from '../layer.js';
import { sha256 } from '../../oci/digest.js';
import type { SnapshotStore, MountedRootfs } from '../snapshots/snapshot-store.js';
import type { ExecDefinition, ExecMount } from '../step.js';
import { ensureEmulator } from '../system/binfmt.js';
import { lockFile } from '../system/flock.js';
import { runcRun } from '../system/runc.js';
import type { StepContext, StepInput } from '../worker.js';
import { materializeLocal } from '../rootfs/local-input.js';
import { makeDirs } from '../rootfs/make-dirs.js';
import { findMountStubs, removeMountStubs, type MountStubs } from './mount-points.js';
import { buildSpec, type SpecMount } from './runtime-spec.js';
import { pathInRoot, resolveUser } from '../rootfs/user.js';
import { trace } from '../../oci/trace.js';

export class ExecError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly tail: string[],
  ) {
    super(message);
  }
}

export interface ExecDeps {
  snapshots: SnapshotStore;
  /** Persistent `type=cache` directories live here. */
  cacheMountsDir: string;
  runcRoot: string;
  tmpDir: string;
}

const TAIL_LINES = 20;

/**
 * `sharing=locked` cache mounts are held by one step at a time and `private` ones give a busy
 * directory's second user a directory of its own, across every process on the machine that shares the
 * cache: both through file locks beside the directories, which die with their holder.
 */
async function acquireCacheMount(dir: string, sharing: 'shared' | 'private' | 'locked', signal?: AbortSignal): Promise<{ dir: string; release(): Promise<void> }> {
  if (sharing === 'shared') return { dir, release: async () => undefined };
  if (sharing === 'locked') {
    const lock = (await lockFile(`${dir}.lock`, { wait: true, ...(signal ? { signal } : {}) }))!;
    return { dir, release: () => lock.release() };
  }
  for (let n = 0; ; n++) {
    const candidate = n === 0 ? dir : `${dir}-private-${n}`;
    const lock = await lockFile(`${candidate}.lock`, { wait: false });
    if (lock) return { dir: candidate, release: () => lock.release() };
  }
}

/** The host's resolver configuration, which a RUN with a network sees; empty when it has none. */
function hostResolvConf(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}

/** Runs one RUN step under runc on an overlay of its root filesystem; returns the upper directory as the diff. */
export async function runExec(
  exec: ExecDefinition,
  platform: string,
  inputs: StepInput[],
  ctx: StepContext,
  deps: ExecDeps,
): Promise<{ root: MountedRootfs; parent: Layer[] }> {
  await ensureEmulator(platform);
  const rootInput = exec.rootfs === null ? undefined : inputs[exec.rootfs];
  if (rootInput && rootInput.type !== 'rootfs') throw new Error('RUN needs a root filesystem as its first input');
  const parent = rootInput?.layers ?? [];
  const root = await deps.snapshots.mount(parent, true);
  trace('exec: mounted');
  const cleanups: (() => Promise<void> | void)[] = [];
  let stubs: MountStubs;
  try {
    // The spec holds the environment: with a secret in it, the bundle lives on a tmpfs, as secret files do.
    const secretEnv = exec.mounts.some((m) => m.type === 'secret' && m.env !== undefined);
    // The setup's file calls are synchronous: each takes microseconds, and through the thread pool
    // each would wait for a turn of the event loop, which a layer's tar shares meanwhile.
    const bundle = mkdtempSync(secretEnv ? '/dev/shm/dockyard-bundle-' : join(deps.tmpDir, 'bundle-'));
    cleanups.push(() => rm(bundle, { recursive: true, force: true }));
    const targets = exec.mounts.flatMap((m) => (m.target !== undefined ? [m.target] : []));
    stubs = await findMountStubs(root.path, ['/etc/resolv.conf', '/etc/hosts', ...targets]);

    const user = resolveUser(root.path, exec.user);
    // A missing working directory is made 0755 and owned by the step's user, as BuildKit's executor does.
    await makeDirs(pathInRoot(root.path, exec.cwd), 0o755, user);
    const env = [...exec.env];
    if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home}`);

    const mounts: SpecMount[] = [];
    writeFileSync(join(bundle, 'hosts'), '127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n');
    writeFileSync(join(bundle, 'resolv.conf'), exec.network === 'none' ? '' : hostResolvConf());
    // Readable by any user in the container, whatever the umask.
    for (const f of ['hosts', 'resolv.conf']) chmodSync(join(bundle, f), 0o644);
    mounts.push({ destination: '/etc/hosts', type: 'bind', source: join(bundle, 'hosts'), options: ['rbind', 'ro'] });
    mounts.push({ destination: '/etc/resolv.conf', type: 'bind', source: join(bundle, 'resolv.conf'), options: ['rbind', 'ro'] });

    for (const m of exec.mounts) {
      const spec = await specMount(m, platform, inputs, ctx, deps, cleanups, env);
      if (spec) mounts.push(spec);
    }

    const spec = buildSpec({ rootfs: root.path, args: exec.args, env, cwd: exec.cwd, user, network: exec.network, security: exec.security, extraMounts: mounts });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));

    const tail: string[] = [];
    let partial = '';
    const onData = (chunk: Buffer): void => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        ctx.log(line);
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
      }
    };
    const id = `dockyard-${randomBytes(8).toString('hex')}`;
    mkdirSync(deps.runcRoot, { recursive: true });
    trace('exec: runc start');
    const code = await runcRun(bundle, id, { root: deps.runcRoot, onStdout: onData, onStderr: onData, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    if (partial) onData(Buffer.from('\n'));
    if (code !== 0) {
      throw new ExecError(`process "${exec.args.join(' ')}" did not complete successfully: exit code: ${code}`, code, tail);
    }
  } catch (err) {
    await root.release();
    throw err;
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
  trace('exec: ran');
  await root.detach();
  trace('exec: detached');
  await removeMountStubs(root.upper!, stubs);
  return { root, parent };
}

async function specMount(
  m: ExecMount,
  platform: string,
  inputs: StepInput[],
  ctx: StepContext,
  deps: ExecDeps,
  cleanups: (() => Promise<void> | void)[],
  env: string[],
): Promise<SpecMount | undefined> {
  switch (m.type) {
    case 'bind': {
      const input: StepInput = m.input === null ? { type: 'rootfs', layers: [] } : inputs[m.input]!;
      let base: string;
      if (input.type === 'local') {
        const dir = await materializeLocal(input, deps.tmpDir, m.readonly);
        cleanups.push(() => rm(dir, { recursive: true, force: true }));
        base = dir;
      } else {
        // A read-write bind gets its own throwaway upper layer: its changes are discarded.
        const mounted = await deps.snapshots.mount(input.layers, !m.readonly);
        cleanups.push(() => mounted.release());
        base = mounted.path;
      }
      return { destination: m.target, type: 'bind', source: pathInRoot(base, m.source), options: ['rbind', m.readonly ? 'ro' : 'rw'] };
    }
    case 'cache': {
      // Cache mounts persist across builds, one directory per id and platform.
      const dir = join(deps.cacheMountsDir, sha256(`${platform}\0${m.id}`).slice(7, 31));
      const lock = await acquireCacheMount(dir, m.sharing, ctx.signal);
      cleanups.push(() => lock.release());
      const fresh = await mkdir(lock.dir, { recursive: true });
      if (fresh !== undefined) {
        await chmod(lock.dir, m.mode);
        await chown(lock.dir, m.uid, m.gid);
      }
      return { destination: m.target, type: 'bind', source: lock.dir, options: ['rbind', m.readonly ? 'ro' : 'rw'] };
    }
    case 'tmpfs':
      return { destination: m.target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...(m.size !== undefined ? [`size=${m.size}`] : [])] };
    case 'secret': {
      const value = await ctx.secrets.get(m.id);
      if (value === undefined) {
        if (m.required) throw new Error(`secret ${m.id} is required but was not provided: pass --secret id=${m.id},src=FILE`);
        return undefined;
      }
      if (m.env !== undefined) env.push(`${m.env}=${value.toString()}`);
      if (m.target === undefined) return undefined;
      // Secrets live on a tmpfs only for the duration of the step: never on disk, never in a layer.
      const dir = await mkdtemp('/dev/shm/dockyard-secret-');
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      const file = join(dir, 'secret');
      await writeFile(file, value, { mode: 0o600 });
      await chown(file, m.uid, m.gid);
      await chmod(file, m.mode);
      return { destination: m.target, type: 'bind', source: file, options: ['rbind', 'ro'] };
    }
    case 'ssh':
      if (m.required) throw new Error('RUN --mount=type=ssh is not supported by this builder yet');
      return undefined;
  }
}
