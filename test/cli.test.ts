import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { toStages } from '../coordinator/dockerfile/instructions.js';
import { parseDockerfile } from '../coordinator/dockerfile/parser.js';
import { cliPath, commandPath, conformanceCorpus, makeDir, repoRoot, runCli, writeFile } from './helpers.js';

interface JsonStep {
  key: string;
  kind: string;
  platform: string;
  inputs: string[];
}
interface JsonPlan {
  targets: {
    platform: string;
    target: string;
    result: string | null;
    stages: { name?: string; platform: string; steps: { line: number; key?: string; kind: string; inputs?: string[] }[] }[];
    image: { architecture: string; os: string; config: Record<string, unknown> };
  }[];
  steps: JsonStep[];
  warnings: { message: string }[];
}

const fixture = (name: string): string => join(repoRoot, 'test', 'fixtures', name);

function dryRun(dir: string, extra: string[] = []): JsonPlan {
  const r = runCli(['build', '--dry-run', '--offline', '--format', 'json', ...extra, dir]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as JsonPlan;
}

/** Every key a stage lists exists in the step table, and every input of every step too. */
function assertClosedGraph(p: JsonPlan): void {
  const keys = new Set(p.steps.map((s) => s.key));
  for (const s of p.steps) for (const i of s.inputs) assert.ok(keys.has(i), `input ${i} of ${s.key} missing`);
  for (const t of p.targets) for (const st of t.stages) for (const e of st.steps) if (e.key) assert.ok(keys.has(e.key));
  // Inputs come before the steps that use them.
  const seen = new Set<string>();
  for (const s of p.steps) {
    for (const i of s.inputs) assert.ok(seen.has(i), `input ${i} listed after its user`);
    seen.add(s.key);
  }
}

describe('dockyard CLI', () => {
  it('answers --help and --version, and build --help', () => {
    const help = runCli(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Usage: dockyard COMMAND/);
    assert.match(runCli(['--version']).stdout, /^dockyard \d+\.\d+\.\d+\n$/);
    const build = runCli(['build', '--help']);
    assert.match(build.stdout, /--dry-run/);
    assert.match(build.stdout, /--build-arg KEY=VALUE/);
  });

  it('is the package bin: a shell script that runs the node program beside it', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    assert.equal(join(repoRoot, pkg.bin.dockyard!), commandPath);
    assert.match(readFileSync(commandPath, 'utf8'), /^#!\/bin\/sh\n[^]*\nexec node "\$\{self%\/\*\}\/dockyard\.cjs" "\$@"\n$/);
    assert.match(readFileSync(cliPath, 'utf8'), /^#!\/usr\/bin\/env node\n/);
    const r = spawnSync(commandPath, ['--version'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, runCli(['--version']).stdout);
  });

  it('plans a multi-stage Go build for two platforms, sharing the $BUILDPLATFORM stage work', () => {
    const p = dryRun(fixture('go-app'), ['--platform', 'linux/amd64,linux/arm64', '-t', 'example.com/server:1']);
    assertClosedGraph(p);
    assert.deepEqual(p.targets.map((t) => t.platform), ['linux/amd64', 'linux/arm64']);
    for (const t of p.targets) {
      assert.equal(t.target, 'final');
      assert.deepEqual(t.stages.map((s) => s.name), ['build', 'final'], 'dependencies come first');
      assert.deepEqual(t.image.config.Entrypoint, ['/bin/server']);
      assert.equal(t.image.config.User, 'appuser');
      assert.deepEqual(t.image.config.ExposedPorts, { '8000/tcp': {} });
      assert.equal(t.stages.find((s) => s.name === 'build')!.platform, 'linux/amd64');
    }
    assert.equal(p.targets[1]!.image.architecture, 'arm64');
    const buildSteps = p.targets.map((t) => t.stages.find((s) => s.name === 'build')!.steps.filter((s) => s.key).map((s) => s.key));
    // FROM, WORKDIR and `go mod download` are shared; the cross-compiling RUN differs per target.
    assert.deepEqual(buildSteps[0]!.slice(0, 3), buildSteps[1]!.slice(0, 3));
    assert.notEqual(buildSteps[0]!.at(-1), buildSteps[1]!.at(-1));
  });

  it('plans a Node build whose final image takes files from two stages', () => {
    const p = dryRun(fixture('node-app'));
    assertClosedGraph(p);
    const t = p.targets[0]!;
    assert.deepEqual(t.stages.map((s) => s.name), ['base', 'deps', 'build', 'final']);
    assert.deepEqual(t.image.config.Cmd, ['node', 'dist/index.js']);
    assert.equal(t.image.config.WorkingDir, '/usr/src/app');
    assert.ok((t.image.config.Env as string[]).includes('NODE_ENV=production'));
  });

  it('plans a Python build with HEALTHCHECK in the image config', () => {
    const p = dryRun(fixture('python-app'));
    assertClosedGraph(p);
    const c = p.targets[0]!.image.config;
    assert.deepEqual(c.Healthcheck, {
      Test: ['CMD-SHELL', `python -c "import urllib.request; urllib.request.urlopen('http://localhost:8000/health')"`],
      Interval: 30e9,
      Timeout: 3e9,
    });
    assert.deepEqual(c.Cmd, ['python', '-m', 'app']);
    assert.ok((c.Env as string[]).includes('PYTHONUNBUFFERED=1'));
  });

  it('prints a readable plan by default', () => {
    const r = runCli(['build', '--dry-run', '--offline', fixture('node-app')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Plan for .*Dockerfile \(build platform linux\/\w+, \d+ steps\)/);
    assert.match(r.stdout, /stage 3 "final" FROM base \[linux\/\w+\]/);
    assert.match(r.stdout, /\n\s+24  COPY --from=deps \/usr\/src\/app\/node_modules.*\s[0-9a-f]{12} copy <- [0-9a-f]{12} [0-9a-f]{12}\n/);
    assert.match(r.stdout, /\n\s+20  FROM base AS final\s+[0-9a-f]{12} from stage base\n/);
    assert.match(r.stdout, /Cmd\s+\["node","dist\/index.js"\]/);
  });

  it('reads the Dockerfile from stdin with -f -', () => {
    const dir = makeDir();
    const r = runCli(['build', '--dry-run', '--format', 'json', '-f', '-', dir], { input: 'FROM scratch\nENV A=b\n' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as JsonPlan).targets[0]!.image.config.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=b']);
  });

  it('warns about unused build args on stderr and keeps stdout pure JSON', () => {
    const dir = makeDir({ Dockerfile: 'FROM scratch\n' });
    const r = runCli(['build', '--dry-run', '--format', 'json', '--build-arg', 'UNUSED=1', dir]);
    assert.equal(r.status, 0);
    assert.match(r.stderr, /WARNING: build-arg \[UNUSED\] was not consumed/);
    assert.deepEqual((JSON.parse(r.stdout) as JsonPlan).warnings.map((w) => w.message), ['build-arg [UNUSED] was not consumed by any ARG']);
  });
});

// The corpus Dockerfiles are parser tests, not all of them valid builds. These fail in BuildKit too.
const corpusFailures: Record<string, RegExp> = {
  env: /matching single-quote/, // ENV name='a\'b': a single quote cannot be escaped inside single quotes
  escapes: /matching double-quote/, // ADD \conf\\" leaves a double quote open
  flags: /unknown flag --user for COPY/,
  health: /HEALTHCHECK requires at least one argument/,
  json: /must come after a FROM/, // these files have no FROM at all
  'jeztah-invalid-json-json-inside-string': /must come after a FROM/,
  'jeztah-invalid-json-json-inside-string-double': /must come after a FROM/,
  'jeztah-invalid-json-single-quotes': /must come after a FROM/,
  'jeztah-invalid-json-unterminated-bracket': /must come after a FROM/,
  'jeztah-invalid-json-unterminated-string': /must come after a FROM/,
};

describe('dry-run on the conformance corpus Dockerfiles', () => {
  const corpus = conformanceCorpus();
  const cases = readdirSync(join(corpus, 'testfiles')).sort();
  for (const name of cases) {
    it(name, () => {
      const dir = makeDir();
      cpSync(join(corpus, 'testfiles', name, 'Dockerfile'), join(dir, 'Dockerfile'));
      // Give every local COPY/ADD source a file, so that the plan can checksum it.
      try {
        for (const stage of toStages(parseDockerfile(readFileSync(join(dir, 'Dockerfile'), 'utf8'))).stages) {
          for (const ins of stage.instructions) {
            if ((ins.kind === 'copy' || ins.kind === 'add') && ins.copy.from === undefined) {
              for (const src of ins.copy.sources) if (!/^https?:|[*?[$\\]/.test(src) && src !== '.') writeFile(dir, src, 'stub\n');
            }
          }
        }
      } catch {
        // Files that do not type-check fail below with the CLI's own message.
      }
      const r = runCli(['build', '--dry-run', '--offline', '--format', 'json', dir]);
      const expected = corpusFailures[name];
      if (expected) {
        assert.equal(r.status, 1);
        assert.match(r.stderr, expected);
        assert.equal(r.stderr.trim().split('\n').length, 1);
      } else {
        assert.equal(r.status, 0, r.stderr);
        assertClosedGraph(JSON.parse(r.stdout) as JsonPlan);
      }
    });
  }
});
