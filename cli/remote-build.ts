import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ContentBlobStore } from '../cache/content-blob-store.js';
import type { OutputSpec } from '../coordinator/export/output-spec.js';
import { failureError } from '../coordinator/farm/build-outcome.js';
import { buildMetadata } from '../coordinator/solver/build-metadata.js';
import { contextOpener } from '../coordinator/solver/contexts.js';
import type { Progress } from '../coordinator/progress/progress.js';
import { formatPlatform } from '../oci/platform.js';
import type { Descriptor } from '../oci/manifest.js';
import type { BuildEvent__Output } from '../proto/generated/dockyard/v1/BuildEvent.js';
import type { BuildOptions } from '../proto/generated/dockyard/v1/BuildOptions.js';
import type { BuildResult__Output } from '../proto/generated/dockyard/v1/BuildResult.js';
import type { ClientMessage } from '../proto/generated/dockyard/v1/ClientMessage.js';
import type { Output } from '../proto/generated/dockyard/v1/Output.js';
import type { ProgressEvent__Output } from '../proto/generated/dockyard/v1/ProgressEvent.js';
import { runCommand } from '../worker/system/command.js';
import type { BuildFlags } from './build-flags.js';
import { builderError, call, connectBuilder, type BuilderConnection } from './builder-client.js';
import { uploadLocalContext, uploadNamedContexts, type UploadStats } from './context-upload.js';
import { UsageError } from './errors.js';
import { FlagSecrets } from './secrets.js';
import { attestRequest } from './attest-request.js';

const outputMessage = (o: OutputSpec): Output => {
  switch (o.type) {
    case 'oci':
      return { oci: { tar: o.tar } };
    case 'docker':
      return { docker: {} };
    case 'local':
      return { local: {} };
    case 'tar':
      return { tar: {} };
    case 'image':
      return { image: { push: o.push, names: o.names, pushByDigest: o.pushByDigest } };
  }
};

/** Streams output `index`'s chunks to a temporary file beside its destination, then puts it in place. */
class OutputSink {
  private file: WriteStream | undefined;
  private readonly tmp: string;

  constructor(
    private readonly spec: Exclude<OutputSpec, { type: 'image' }>,
    scratch: string,
    index: number,
  ) {
    this.tmp = join(scratch, `output-${index}`);
  }

  write(data: Buffer): Promise<void> {
    this.file ??= createWriteStream(this.tmp);
    return new Promise((resolve, reject) => this.file!.write(data, (err) => (err ? reject(err) : resolve())));
  }

  /** A re-attach replays the outputs from their start. */
  async reset(): Promise<void> {
    await this.close();
    this.file = undefined;
    await rm(this.tmp, { force: true });
  }

  private close(): Promise<void> {
    const f = this.file;
    return f ? new Promise((resolve) => f.end(() => resolve())) : Promise.resolve();
  }

  async finish(): Promise<void> {
    await this.write(Buffer.alloc(0));
    await this.close();
    const { spec } = this;
    // A local output and an OCI directory come as tars: unpacked into place.
    if (spec.type === 'local' || (spec.type === 'oci' && !spec.tar)) {
      await mkdir(spec.dest, { recursive: true });
      await runCommand('tar', ['-xf', this.tmp, '-C', spec.dest]);
      return;
    }
    if (spec.type === 'tar' && spec.dest === '-') {
      await runCommand('cat', [this.tmp]).then((r) => process.stdout.write(r.stdout));
      return;
    }
    await mkdir(dirname(spec.dest), { recursive: true });
    await rename(this.tmp, spec.dest).catch(async () => {
      await runCommand('cp', [this.tmp, spec.dest]);
    });
  }
}

/** Renders the coordinator's progress events with the local Progress (plain, tty, quiet alike). */
class ProgressRelay {
  private readonly ids = new Map<number, number>();
  constructor(
    private readonly progress: Progress,
    private readonly outputs: OutputSpec[],
  ) {}

  /** The coordinator exports output N to a file of its own: named here as the user gave it. */
  private name(text: string): string {
    const m = /^exporting to \S+ \S*\/output-(\d+)$/.exec(text);
    const o = m ? this.outputs[Number(m[1])] : undefined;
    return o && o.type !== 'image' ? `exporting to ${o.type} ${o.dest}` : text;
  }

  apply(e: ProgressEvent__Output): void {
    if (e.event === 'started') {
      this.ids.set(e.vertex, this.progress.start(this.name(e.started ?? '')));
      return;
    }
    const id = this.ids.get(e.vertex);
    if (id === undefined) return;
    if (e.event === 'log') this.progress.log(id, e.log ?? '');
    else if (e.event === 'cached') this.progress.cached(id);
    else if (e.event === 'done') this.progress.done(id);
    else if (e.event === 'error') this.progress.error(id, e.error ?? '');
    else if (e.event === 'note') this.progress.note(id, e.note ?? '');
  }
}

export interface RemoteBuildResult {
  result: BuildResult__Output;
  buildId: string;
}

/**
 * Follows build `id` on an Attach stream until its end: progress to `relay`, outputs to their sinks,
 * secret requests answered from `--secret` sources. If the stream breaks (the coordinator died), it
 * attaches again: the coordinator replays the build's events from the start, so those already shown
 * are skipped and outputs start over.
 */
async function follow(first: BuilderConnection, id: string, flags: BuildFlags, relay: ProgressRelay, sinks: Map<number, OutputSink>, signal: AbortSignal): Promise<BuildResult__Output> {
  let b = first;
  /** Connections to other coordinators made on the way; `first` is the caller's to close. */
  const opened: BuilderConnection[] = [];
  try {
    return await attachUntilEnd();
  } finally {
    for (const c of opened) c.client.close();
  }

  async function attachUntilEnd(): Promise<BuildResult__Output> {
    const secrets = new FlagSecrets(flags.secrets);
    let shown = 0;
    for (let attempt = 0; ; attempt++) {
      for (const s of sinks.values()) await s.reset();
      let seen = 0;
      try {
        return await new Promise<BuildResult__Output>((resolve, reject) => {
          const stream = b.client.Attach();
          const onAbort = (): void => stream.cancel();
          signal.addEventListener('abort', onAbort, { once: true });
          let chain = Promise.resolve();
          const send = (m: ClientMessage): void => void stream.write(m);
          stream.on('data', (e: BuildEvent__Output) => {
            chain = chain
              .then(async () => {
                if (e.event === 'progress' && e.progress) {
                  if (++seen > shown) {
                    shown = seen;
                    relay.apply(e.progress);
                  }
                } else if (e.event === 'queued' && e.queued && flags.progress === 'plain') process.stderr.write(`#0 queued: position ${e.queued.position}\n`);
                else if (e.event === 'secretRequest' && e.secretRequest) {
                  const { requestId, secretId } = e.secretRequest;
                  const value = await secrets.get(secretId).catch(() => undefined);
                  send({ secret: { requestId, found: value !== undefined, value: value ?? Buffer.alloc(0) } });
                } else if (e.event === 'output' && e.output) {
                  const sink = sinks.get(e.output.index);
                  if (!sink) return;
                  if (e.output.last) await sink.finish();
                  else await sink.write(e.output.data);
                } else if (e.event === 'end' && e.end) {
                  if (e.end.outcome === 'result' && e.end.result) resolve(e.end.result);
                  else if (e.end.failure) reject(failureError(e.end.failure));
                  stream.end();
                }
              })
              .catch((err: unknown) => {
                reject(err);
                stream.cancel();
              });
          });
          stream.on('error', (err: grpc.ServiceError) => {
            signal.removeEventListener('abort', onAbort);
            if (signal.aborted) reject(new UsageError('build cancelled'));
            else reject(err);
          });
          stream.on('end', () => {
            signal.removeEventListener('abort', onAbort);
            void chain.then(() => reject(Object.assign(new Error('the coordinator ended the stream before the build ended'), { code: grpc.status.UNAVAILABLE })));
          });
          send({ attach: { buildId: id } });
        });
      } catch (err) {
        const code = (err as Partial<grpc.ServiceError>).code;
        if (signal.aborted || code !== grpc.status.UNAVAILABLE || attempt >= 30) throw code === undefined ? err : builderError(b.address, err);
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
        // Another coordinator of the farm serves the same build; with one address, the same one again.
        const next = await connectBuilder(flags.builder!, { ...connectOptions(flags), after: b.address }).catch(() => undefined);
        if (next) {
          opened.push(next);
          b = next;
        }
      }
    }
  }
}

const connectOptions = (flags: BuildFlags): { tokenFile?: string; tls: BuildFlags['tls'] } => ({ ...(flags.tokenFile !== undefined ? { tokenFile: flags.tokenFile } : {}), tls: flags.tls });

/** `dockyard build --builder ADDR`: the same build, on the farm; iidfile and metadata written here. */
/** `--provenance`/`--sbom` on the wire: the builder id and Dockerfile path resolved here, as a local build resolves them. */
function attestOptions(flags: BuildFlags): Pick<BuildOptions, 'provenanceMode' | 'provenanceBuilderId' | 'sbom' | 'dockerfilePath'> {
  if (!flags.attest.provenance && !flags.attest.sbom) return {};
  const a = attestRequest(flags);
  const p = flags.attest.provenance;
  return { ...(p ? { provenanceMode: p.mode, provenanceBuilderId: p.builderId ?? a.defaultBuilderId } : {}), sbom: flags.attest.sbom, dockerfilePath: a.dockerfilePath };
}

/** `open` gives the build context (any name but a named context's) and local named contexts, each opened once. */
export async function remoteBuild(flags: BuildFlags, progress: Progress, signal: AbortSignal, open = contextOpener(flags.contextDir, flags.dockerfilePath, flags.namedContexts)): Promise<RemoteBuildResult> {
  const b = await connectBuilder(flags.builder!, connectOptions(flags));
  const address = b.address;
  const scratch = await mkdtemp(join(flags.cacheDir ?? tmpdir(), 'dockyard-remote-'));
  try {
    const store = new ContentBlobStore(address, b.dial, { scratchDir: scratch });
    const stats: UploadStats = { files: 0, uploaded: 0, bytes: 0 };
    const ctx = open('context');
    let options: BuildOptions;
    try {
      options = {
        dockerfileText: flags.dockerfileText,
        dockerfileName: flags.dockerfileName,
        context: await uploadLocalContext(store, ctx, stats),
        tags: flags.tags,
        buildArgs: Object.fromEntries(flags.buildArgs),
        ...(flags.target !== undefined ? { target: flags.target } : {}),
        platforms: flags.platforms.map(formatPlatform),
        secretIds: flags.secrets.map((s) => s.id),
        labels: Object.fromEntries(flags.labels),
        namedContexts: await uploadNamedContexts(store, flags.namedContexts, stats, open),
        outputs: flags.outputs.map(outputMessage),
        noCache: flags.noCache,
        noCacheFilter: flags.noCacheFilter,
        ...(flags.maxParallelism !== undefined ? { maxParallelism: flags.maxParallelism } : {}),
        ...attestOptions(flags),
        signFormats: flags.sign?.formats ?? [],
        cacheFrom: flags.cacheFromText,
        cacheTo: flags.cacheToText,
      };
    } catch (err) {
      if ((err as Partial<grpc.ServiceError>).code !== undefined) throw builderError(address, err);
      throw err;
    }
    const sinks = new Map<number, OutputSink>();
    flags.outputs.forEach((o, i) => {
      if (o.type !== 'image') sinks.set(i, new OutputSink(o, scratch, i));
    });
    const { buildId } = await call(b, b.client.Submit, { options, priority: 0, tenant: '' });
    const onAbort = (): void => void call(b, b.client.Cancel, { buildId }).catch(() => undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await follow(b, buildId, flags, new ProgressRelay(progress, flags.outputs), sinks, signal);
      const top = result.top as Descriptor;
      const single = result.images.length === 1 ? result.images[0]! : undefined;
      if (flags.iidfile) await writeFile(flags.iidfile, single?.config?.digest ?? top.digest);
      if (flags.metadataFile) {
        const meta = { ...buildMetadata({ top, configDigest: single?.config?.digest, tags: flags.tags, misses: result.misses }), 'dockyard.build-id': buildId };
        await writeFile(flags.metadataFile, JSON.stringify(meta, null, 2) + '\n');
      }
      return { result, buildId };
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  } finally {
    b.client.close();
    await rm(scratch, { recursive: true, force: true });
  }
}
