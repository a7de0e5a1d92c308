import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { buildCommand, InputError, provenanceValue, withInput } from '../cli/action/command-line.js';
import { parseInputList } from '../cli/action/input-list.js';
import { readInputs, type ActionInputs } from '../cli/action/inputs.js';
import { launcher } from '../cli/action/run.js';
import { stageOf } from '../cli/action/step-log.js';
import { makeDir, tempDir } from './helpers.js';

// The edge cases of docker/actions-toolkit's Util.getInputList tests and build-push-action's context
// tests, with values of our own: the Action must split lists exactly as build-push-action does.
describe('list inputs, split as build-push-action splits them', () => {
  const cases: [string, string, Parameters<typeof parseInputList>[1], string[]][] = [
    ['one item', 'alpha', {}, ['alpha']],
    ['nothing', '', {}, []],
    ['one item a line', 'alpha\nbeta', {}, ['alpha', 'beta']],
    ['blank lines skipped', 'alpha\n\n\nbeta', {}, ['alpha', 'beta']],
    ['commas split', 'alpha,beta', {}, ['alpha', 'beta']],
    ['a trailing comma adds nothing', 'alpha,beta,', {}, ['alpha', 'beta']],
    ['CRLF line ends', 'alpha\r\nbeta', {}, ['alpha', 'beta']],
    ['CRLF and commas', 'alpha\r\nbeta,gamma', {}, ['alpha', 'beta', 'gamma']],
    ['spaces after commas trimmed', 'reg/app:1.0, reg/app:latest', {}, ['reg/app:1.0', 'reg/app:latest']],
    ['commas kept in a line', 'ghcr.io/o/app:cache\ntype=local,src=/tmp/c', { ignoreComma: true }, ['ghcr.io/o/app:cache', 'type=local,src=/tmp/c']],
    ['commas kept, CRLF', 'ghcr.io/o/app:cache\r\ntype=local,src=/tmp/c', { ignoreComma: true }, ['ghcr.io/o/app:cache', 'type=local,src=/tmp/c']],
    ['# is text without a comment character', 'a=1\nb=2#3', {}, ['a=1', 'b=2#3']],
    ['# starts a comment anywhere with one', 'a=1\nb=2#3', { comment: '#' }, ['a=1', 'b=2']],
    ['only leading # with no-infix', '# not this\na=1\nb=2#3', { comment: '#', commentNoInfix: true }, ['a=1', 'b=2#3']],
    ['quotes kept when quoting is off', '"proxy=a,b,.c"', { ignoreComma: true, quote: false }, ['"proxy=a,b,.c"']],
    ['a quoted item still splits on commas', 'linux/amd64\n"linux/arm64,linux/ppc64le"', {}, ['linux/amd64', 'linux/arm64', 'linux/ppc64le']],
    ['a quoted value spans lines', 'K1=x,y=z\n"K2=line1\nline2\nline3"\nK3=v', { ignoreComma: true }, ['K1=x,y=z', 'K2=line1\nline2\nline3', 'K3=v']],
    ['a quoted value keeps blank lines', 'K1=v\n"K2=top\n\nbottom"', { ignoreComma: true }, ['K1=v', 'K2=top\n\nbottom']],
    ['unquoted lines are items of their own', 'K1=x,y\nK2=line1\nline2', { ignoreComma: true }, ['K1=x,y', 'K2=line1', 'line2']],
    ['"" is a quote inside quotes', 'K1=v\n"K2=say ""hi""\nthere"', { ignoreComma: true }, ['K1=v', 'K2=say "hi"\nthere']],
    ['quoted attribute lists kept whole', 'type=image,"name=r/a:1,r/a:2",push=true', { ignoreComma: true, quote: false }, ['type=image,"name=r/a:1,r/a:2",push=true']],
    ['a build arg with commas and a #', 'LIST=a,b,c\nHASH=x#y\n"MULTI=1\n2"', { ignoreComma: true }, ['LIST=a,b,c', 'HASH=x#y', 'MULTI=1\n2']],
  ];
  for (const [name, input, opts, expected] of cases) {
    it(name, () => assert.deepEqual(parseInputList(input, opts), expected));
  }

  it('keeps trailing newlines of a value when trimming is off', () => {
    assert.deepEqual(parseInputList('"KEY=-----BEGIN-----\nabc\n-----END-----\n\n\n"\n', { ignoreComma: true, trimWhitespace: false }), ['KEY=-----BEGIN-----\nabc\n-----END-----\n\n\n']);
  });

  it('carries a long multi-line value (an armored key) whole', () => {
    const armored = ['-----BEGIN PGP PRIVATE KEY BLOCK-----', '', ...Array.from({ length: 60 }, (_, i) => `${'Qm9vdA'.repeat(10)}${i}+/=`), '-----END PGP PRIVATE KEY BLOCK-----'].join('\n');
    assert.deepEqual(parseInputList(`"GPG=${armored}"\nNEXT=1`, { ignoreComma: true }), [`GPG=${armored}`, 'NEXT=1']);
  });
});

describe('inputs read from INPUT_* variables', () => {
  const set: string[] = [];
  const input = (name: string, value: string): void => {
    const key = `INPUT_${name.toUpperCase()}`;
    process.env[key] = value;
    set.push(key);
  };
  afterEach(() => {
    for (const k of set.splice(0)) delete process.env[k];
  });

  it('gives each list its options: secrets keep whitespace, outputs keep quotes, platforms split', () => {
    input('secrets', '"PEM=-----BEGIN-----\nxyz\n-----END-----\n"\n');
    input('outputs', 'type=image,"name=r/a:1,r/a:2",push=true');
    input('platforms', 'linux/amd64,linux/arm64');
    input('build-args', 'A=1,2\nB=3');
    input('push', 'TRUE');
    const got = readInputs();
    assert.deepEqual(got.secrets, ['PEM=-----BEGIN-----\nxyz\n-----END-----\n']);
    assert.deepEqual(got.outputs, ['type=image,"name=r/a:1,r/a:2",push=true']);
    assert.deepEqual(got.platforms, ['linux/amd64', 'linux/arm64']);
    assert.deepEqual(got['build-args'], ['A=1,2', 'B=3']);
    assert.equal(got.push, true);
    assert.equal(got.summary, true, 'summary defaults to true');
    assert.equal(got.load, false);
  });

  it('rejects a boolean input that is not a YAML boolean, naming it', () => {
    input('push', 'yes please');
    assert.throws(() => readInputs(), /push/);
  });
});

/** The defaults (no INPUT_* set) with `over`. */
function inputs(over: Partial<ActionInputs>): ActionInputs {
  return { ...readInputs(), ...over };
}

describe('inputs mapped to dockyard build flags', () => {
  const files = (): { dir: string; metadataFile: string; iidfile: string } => {
    const dir = tempDir('action-files');
    return { dir, metadataFile: join(dir, 'm.json'), iidfile: join(dir, 'iid') };
  };

  it('maps each input to its flag and names the Dockerfile relative to the workspace', () => {
    const f = files();
    const c = buildCommand(inputs({ context: 'app', tags: ['r/a:1', 'r/a:2'], 'build-args': ['A=1,2'], platforms: ['linux/amd64', 'linux/arm64'], push: true, target: 'final', 'no-cache-filters': ['build'], 'cache-from': ['type=registry,ref=r/a:cache'], 'cache-to': ['type=local,dest=/c'] }), f, () => undefined);
    assert.deepEqual(c.args, ['build', '--progress', 'rawjson', '--file', 'app/Dockerfile', '--build-arg', 'A=1,2', '--cache-from', 'type=registry,ref=r/a:cache', '--cache-to', 'type=local,dest=/c', '--no-cache-filter', 'build', '--platform', 'linux/amd64,linux/arm64', '--tag', 'r/a:1', '--tag', 'r/a:2', '--target', 'final', '--push', '--iidfile', f.iidfile, '--metadata-file', f.metadataFile, 'app']);
    assert.equal(c.flagInputs.get('--cache-to'), 'cache-to');
  });

  it('writes inline secret values to private files, masks them, and passes env and file secrets by name', () => {
    const f = files();
    const masked: string[] = [];
    const dir = makeDir({ 'token.txt': 't' });
    const c = buildCommand(inputs({ secrets: ['TOKEN=abc=def', 'MULTI=l1\nl2\n'], 'secret-envs': ['FROM_ENV=SOME_VAR'], 'secret-files': [`FILE=${dir}/token.txt`] }), f, (v) => masked.push(v));
    assert.deepEqual(masked, ['abc=def', 'l1\nl2\n']);
    const secretArgs = c.args.filter((_, i) => c.args[i - 1] === '--secret');
    assert.deepEqual(secretArgs, [`id=TOKEN,src=${f.dir}/secret-0`, `id=MULTI,src=${f.dir}/secret-1`, 'id=FROM_ENV,env=SOME_VAR', `id=FILE,src=${dir}/token.txt`]);
    assert.equal(readFileSync(`${f.dir}/secret-1`, 'utf8'), 'l1\nl2\n');
    assert.equal(statSync(`${f.dir}/secret-0`).mode & 0o777, 0o600);
    assert.ok(!c.args.join(' ').includes('abc=def'), 'no secret value on the command line');
  });

  it('passes the farm token and the cosign password through the environment, never argv', () => {
    const c = buildCommand(inputs({ 'cosign-key': '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabc\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----', sign: true, 'cosign-password': 'pw' }), files(), () => undefined);
    assert.deepEqual(c.env, { COSIGN_PASSWORD: 'pw' });
    const key = c.args[c.args.indexOf('--key') + 1]!;
    assert.match(readFileSync(key, 'utf8'), /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabc\n/);
    assert.ok(!c.args.includes('pw'));
    const farm = buildCommand(inputs({ builder: '10.0.0.1:7000', 'builder-token': 'tok-123', sign: true }), files(), () => undefined);
    assert.deepEqual(farm.env, { DOCKYARD_TOKEN: 'tok-123' });
    assert.ok(farm.args.includes('--sign') && farm.args.includes('--builder') && !farm.args.includes('--key'));
    assert.ok(!farm.args.some((a) => a.includes('tok-123')));
    // A farm signs with its coordinators' key: a key given for one is refused, naming the input.
    assert.throws(() => buildCommand(inputs({ builder: '10.0.0.1:7000', sign: true, 'cosign-key': 'k.pem' }), files(), () => undefined), /input cosign-key: is not sent to a farm/);
  });

  it('maps provenance and sbom as build-push-action takes them: true, false, or attributes, with the run as builder id', () => {
    const run = { GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '2' };
    const args = buildCommand(inputs({ provenance: 'mode=max', sbom: 'true' }), files(), () => undefined, run).args;
    assert.ok(args.includes('--provenance=mode=max,builder-id=https://github.com/o/r/actions/runs/42/attempts/2') && args.includes('--sbom=true'), args.join(' '));
    const none = buildCommand(inputs({ provenance: 'false', sbom: 'False' }), files(), () => undefined, run).args;
    assert.ok(!none.some((a) => a.startsWith('--provenance') || a.startsWith('--sbom')));
    assert.equal(provenanceValue('true', 'https://g/o/r/actions/runs/1/attempts/1'), 'builder-id=https://g/o/r/actions/runs/1/attempts/1');
    assert.equal(provenanceValue('mode=max,builder-id=mine', 'https://g/run'), 'mode=max,builder-id=mine');
    assert.equal(provenanceValue('True', undefined), 'true');
    assert.equal(provenanceValue('', 'https://g/run'), undefined);
  });

  it('names the input behind a flag the CLI does not know', () => {
    const c = buildCommand(inputs({ provenance: 'mode=max', 'cache-to': ['type=inline'] }), files(), () => undefined);
    assert.equal(withInput("Unknown option '--provenance'. See 'dockyard build --help'", c.flagInputs), "Unknown option '--provenance'. See 'dockyard build --help' (from input provenance)");
    assert.equal(withInput("Unknown option '--cache-to'", c.flagInputs), "Unknown option '--cache-to' (from input cache-to)");
    assert.equal(withInput('registry 127.0.0.1:5000: unauthorized', c.flagInputs), 'registry 127.0.0.1:5000: unauthorized');
  });

  const refused: [string, Partial<ActionInputs>, RegExp][] = [
    ['network', { network: 'host' }, /^input network: not supported/],
    ['add-hosts', { 'add-hosts': ['db:10.0.0.2'] }, /^input add-hosts: not supported/],
    ['shm-size', { 'shm-size': '2g' }, /^input shm-size: not supported/],
    ['ulimit', { ulimit: ['nofile=1024:1024'] }, /^input ulimit: not supported/],
    ['annotations', { annotations: ['index:a=b'] }, /^input annotations: not supported/],
    ['load', { load: true }, /^input load: .*type=docker,dest=FILE/],
    ['a git context', { context: 'https://github.com/o/r.git#main' }, /^input context: .*actions\/checkout/],
    ['a secret without a value', { secrets: ['EMPTY='] }, /^input secrets: "EMPTY=…" is not a valid secret/],
    ['a secret without a key', { 'secret-envs': ['=VAR'] }, /^input secret-envs: .* is not a valid secret/],
    ['a missing secret file', { 'secret-files': ['K=/nonexistent/file'] }, /^input secret-files: secret file \/nonexistent\/file not found/],
    ['sign without a key', { sign: true }, /^input sign: needs cosign-key/],
    ['a key without sign', { 'cosign-key': '/k' }, /^input cosign-key: is set but sign is not true/],
    ['a token without a farm', { 'builder-token': 't' }, /^input builder-token: needs builder/],
  ];
  for (const [name, over, message] of refused) {
    it(`fails naming the input for ${name}`, () => {
      assert.throws(() => buildCommand(inputs(over), files(), () => undefined), (err: unknown) => err instanceof InputError && message.test(err.message));
    });
  }
});

describe('the Action around the build', () => {
  it('runs a local build through sudo when the runner is not root, a farm build as it is', () => {
    assert.deepEqual(launcher('/a/index.js', ['build', '.'], { uid: 1001, farm: false }), ['sudo', '--preserve-env', process.execPath, '/a/index.js', 'build', '.']);
    assert.deepEqual(launcher('/a/index.js', ['build', '.'], { uid: 0, farm: false }), [process.execPath, '/a/index.js', 'build', '.']);
    assert.deepEqual(launcher('/a/index.js', ['build', '.'], { uid: 1001, farm: true }), [process.execPath, '/a/index.js', 'build', '.']);
  });

  it('folds steps into groups by stage', () => {
    assert.equal(stageOf('[build 2/4] RUN make'), 'build');
    assert.equal(stageOf('[build linux/arm64 1/3] FROM busybox'), 'build linux/arm64');
    assert.equal(stageOf('[internal] load git source x#main'), 'internal');
    assert.equal(stageOf('exporting to image'), 'export');
  });
});
