import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LayerRecord } from '../cache/cache-index.js';
import { keyStep, type StepDraft } from '../coordinator/plan/graph.js';
import { sha256 } from '../oci/digest.js';
import type { StepInput } from '../proto/generated/dockyard/v1/StepInput.js';
import { loadDockyardProto } from '../proto/load.js';
import { ContractError } from '../worker/contract/contract-error.js';
import { decodeStepInput, decodeStepResult, encodeStepInput, encodeStepResult } from '../worker/contract/io-codec.js';
import { decodeStep, encodeStep } from '../worker/contract/step-codec.js';
import type { RemoteStepInput } from '../worker/contract/step-io.js';
import type { Step } from '../worker/step.js';
import { conformanceCorpus, makeDir, plan, repoRoot } from './helpers.js';

const v1 = loadDockyardProto().dockyard.v1;

/** Step -> message -> bytes -> message -> Step, as a remote worker receives it. */
function overTheWire(step: Step): Step {
  const bytes = v1.Step.serialize(encodeStep(step));
  return decodeStep(v1.Step.deserialize(bytes));
}

/** Every variant of the Step union a plan can hold, to show that the corpus covered them all. */
function variants(step: Step): string[] {
  switch (step.kind) {
    case 'source':
      return [`source:${step.source.type}`];
    case 'exec':
      return ['exec', ...(step.exec.rootfs === null ? ['exec:scratch'] : []), ...step.exec.mounts.map((m) => `mount:${m.type}`)];
    case 'file':
      return [`file:${step.file.action}`, ...(step.file.action === 'copy' && step.file.inline.length > 0 ? ['file:inline'] : [])];
    case 'merge':
      return ['merge'];
  }
}

/** A Dockerfile that uses every kind of step, source and mount the planner makes. */
const everyKind = `# syntax=docker/dockerfile:1
FROM alpine:3.20 AS base
RUN --mount=type=cache,target=/root/.cache,id=c1,sharing=locked,mode=0700,uid=10,gid=20 \\
    --mount=type=cache,target=/var/cache,from=files,source=/seed \\
    --mount=type=secret,id=tok,env=TOKEN,required=true \\
    --mount=type=secret,id=tok,target=/run/tok \\
    --mount=type=ssh \\
    --mount=type=tmpfs,target=/tmp,size=1m \\
    --mount=type=bind,from=files,target=/src,source=/a,rw \\
    --mount=type=bind,from=empty,target=/empty \\
    --mount=type=bind,from=bare,target=/bare \\
    --network=none --security=insecure \\
    echo hi
FROM scratch AS empty
FROM scratch AS bare
RUN ["/bin/true"]
FROM scratch AS files
COPY a/ /a/
FROM base
COPY --link --chown=1:2 --chmod=0644 --exclude=*.md a/ /dst/
COPY --parents a/b.txt /p/
ADD --checksum=sha256:${'1'.repeat(64)} https://example.com/file.tar.gz /x/
ADD https://github.com/moby/buildkit.git#v0.10.1 /src
ADD --keep-git-dir=true https://github.com/moby/buildkit.git#v0.10.1:docs /docs
COPY <<EOT /etc/x
hello
EOT
RUN <<EOT
#!/bin/sh
echo from a heredoc
EOT
WORKDIR /w
COPY --from=empty / /
RUN --network=host id
`;

async function everyKindPlan(): Promise<Step[]> {
  const p = await plan(everyKind, {
    contextDir: makeDir({ 'a/b.txt': 'b', 'a/c.md': 'c' }),
    secretIds: new Set(['tok']),
    fetchUrl: async () => sha256('url content'),
    resolveGit: async () => ({ commit: 'a'.repeat(40), ref: 'refs/tags/v0.10.1' }),
  });
  return p.steps;
}

/** The Dockerfiles of test/fixtures and of the shared parser corpus, with their context directories. */
function dockerfiles(): { name: string; dir: string; text: string }[] {
  const out: { name: string; dir: string; text: string }[] = [];
  const fixtures = join(repoRoot, 'test', 'fixtures');
  for (const name of readdirSync(fixtures).sort()) {
    const dir = join(fixtures, name);
    if (existsSync(join(dir, 'Dockerfile'))) out.push({ name: `fixtures/${name}`, dir, text: readFileSync(join(dir, 'Dockerfile'), 'utf8') });
  }
  const corpus = conformanceCorpus();
  for (const name of readdirSync(join(corpus, 'testfiles')).sort()) {
    const dir = join(corpus, 'testfiles', name);
    out.push({ name: `corpus/${name}`, dir, text: readFileSync(join(dir, 'Dockerfile'), 'utf8') });
  }
  return out;
}

describe('the step contract (worker/contract <-> dockyard.v1.Step)', () => {
  it('carries every step of every plannable fixture and corpus Dockerfile through bytes unchanged', async () => {
    const seen = new Set<string>();
    let planned = 0;
    let steps = 0;
    for (const df of dockerfiles()) {
      let planSteps: Step[];
      try {
        planSteps = (await plan(df.text, { contextDir: df.dir })).steps;
      } catch {
        continue; // the corpus is parser input: many of its files copy what their directory lacks
      }
      planned++;
      for (const step of planSteps) {
        const back = overTheWire(step);
        assert.deepStrictEqual(back, step, `${df.name}: step ${step.key} changed on the wire`);
        steps++;
        for (const v of variants(step)) seen.add(v);
      }
    }
    // 3 fixtures and 15 of the corpus plan today: a drop means the loop silently skipped its input.
    assert.ok(planned >= 18, `only ${planned} Dockerfiles planned`);
    assert.ok(steps >= 90, `only ${steps} steps`);
    assert.ok(seen.has('exec') && seen.has('source:image') && seen.has('file:copy'), [...seen].join(' '));
  });

  it('carries every kind of step, source and mount unchanged, and the decoded step keys to the same digest', async () => {
    const seen = new Set<string>();
    for (const step of await everyKindPlan()) {
      const back = overTheWire(step);
      assert.deepStrictEqual(back, step);
      const { key, ...draft } = back;
      assert.equal(keyStep(draft as StepDraft).key, key);
      for (const v of variants(step)) seen.add(v);
    }
    const all = ['source:image', 'source:context', 'source:http', 'source:git', 'exec', 'exec:scratch', 'file:copy', 'file:inline', 'file:mkdir', 'merge', 'mount:bind', 'mount:cache', 'mount:tmpfs', 'mount:secret', 'mount:ssh'];
    assert.deepEqual(all.filter((v) => !seen.has(v)), []);
  });

  it('keeps null input indexes (empty filesystems) apart from index 0', async () => {
    const steps = await everyKindPlan();
    const scratchCopy = steps.find((s) => s.kind === 'file' && s.file.action === 'copy' && s.file.dest === null);
    const zeroCopy = steps.find((s) => s.kind === 'file' && s.file.action === 'copy' && s.file.dest === 0);
    assert.ok(scratchCopy && zeroCopy);
    const dest = (s: Step): number | null | undefined => (s.kind === 'file' ? s.file.dest : undefined);
    assert.equal(dest(overTheWire(scratchCopy)), null);
    assert.equal(dest(overTheWire(zeroCopy)), 0);
  });

  it('refuses a message it cannot act on, naming the field', () => {
    const good = encodeStep({ key: sha256('k'), platform: 'linux/amd64', inputs: [], kind: 'merge' });
    const decode = (msg: object): Step => decodeStep(v1.Step.deserialize(v1.Step.serialize(msg)));
    assert.throws(() => decode({ ...good, merge: undefined }), (e: unknown) => e instanceof ContractError && /no op/.test(e.message));
    assert.throws(() => decode({ ...good, key: 'sha256:short' }), (e: unknown) => e instanceof ContractError && /step\.key is not a sha256 digest/.test(e.message));
    const exec = { ...good, merge: undefined, exec: { args: ['true'], network: 'NETWORK_MODE_UNSPECIFIED', security: 'SECURITY_MODE_SANDBOX' } };
    assert.throws(() => decode(exec), (e: unknown) => e instanceof ContractError && /exec\.network/.test(e.message));
  });
});

describe('the input and result contract (dockyard.v1.StepInput, StepResult)', () => {
  const layer = (n: string): LayerRecord => ({ digest: sha256(`blob ${n}`), diffID: sha256(`tar ${n}`), size: 5_000_000_000 + n.length, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' });

  it('carries layer chains and file trees by digest through bytes unchanged', () => {
    const inputs: RemoteStepInput[] = [
      { type: 'rootfs', layers: [layer('a'), layer('bb')] },
      { type: 'rootfs', layers: [] },
      {
        type: 'files',
        origin: 'context',
        checksum: sha256('selection'),
        entries: [
          { path: 'a', type: 'dir', mode: 0o2755, uid: 1000, gid: 1000, size: 4096 },
          { path: 'a/b.txt', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 1, digest: sha256('b') },
          { path: 'a/l', type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 5, linkTarget: 'b.txt' },
        ],
      },
      { type: 'files', origin: 'url', checksum: sha256('x'), entries: [{ path: 'file.tar.gz', type: 'file', mode: 0o600, uid: 0, gid: 0, size: 1, digest: sha256('x') }] },
      { type: 'files', origin: 'git', checksum: sha256('tree'), entries: [] },
    ];
    for (const input of inputs) {
      assert.deepStrictEqual(decodeStepInput(v1.StepInput.deserialize(v1.StepInput.serialize(encodeStepInput(input)))), input);
    }
  });

  it('carries a step result, empty or not, through bytes unchanged', () => {
    for (const out of [
      { layers: [layer('a'), layer('b')], emptyLayer: false },
      // A layer stored as its uncompressed tar keeps the mark that an export gzips it.
      { layers: [layer('a'), { ...layer('c'), digest: sha256('tar c'), mediaType: 'application/vnd.oci.image.layer.v1.tar', gzipOnExport: true as const }], emptyLayer: false },
      { layers: [layer('a')], emptyLayer: true },
    ]) {
      assert.deepStrictEqual(decodeStepResult(v1.StepResult.deserialize(v1.StepResult.serialize(encodeStepResult(out)))), out);
    }
  });

  it('refuses a file entry without its content digest', () => {
    const msg: StepInput = { files: { origin: 'FILE_TREE_ORIGIN_CONTEXT', checksum: sha256('s'), entries: [{ path: 'f', type: 'FILE_TYPE_FILE' }] } };
    assert.throws(() => decodeStepInput(v1.StepInput.deserialize(v1.StepInput.serialize(msg))), (e: unknown) => e instanceof ContractError && /f has no content digest/.test(e.message));
  });
});
