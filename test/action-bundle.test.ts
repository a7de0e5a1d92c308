import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { inputNames } from '../cli/action/inputs.js';
import { actionEntry, bundlePath } from './action-helpers.js';
import { repoRoot, tempDir } from './helpers.js';

describe('the Action\'s committed bundle', () => {
  it('is what the bundler makes of the sources today (run npm run build:action if not)', () => {
    const out = join(tempDir('bundle'), 'index.js');
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'bundle-action.mjs'), out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(readFileSync(out).equals(readFileSync(bundlePath)), 'dist/action/index.js is out of date: run npm run build:action and commit it');
  });

  it('is what action.yml runs, on node24, and action.yml declares exactly the inputs the Action reads', () => {
    const action = parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as { runs: { using: string; main: string }; inputs: Record<string, unknown>; outputs: Record<string, unknown> };
    assert.equal(action.runs.using, 'node24');
    assert.equal(join(repoRoot, action.runs.main), bundlePath);
    assert.deepEqual(Object.keys(action.inputs).sort(), [...inputNames].sort());
    assert.deepEqual(Object.keys(action.outputs).sort(), ['digest', 'imageid', 'metadata']);
  });

  it('runs dockyard build itself when given arguments, and nothing else', () => {
    const help = spawnSync(process.execPath, [actionEntry(), 'build', '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: dockyard build/);
    const other = spawnSync(process.execPath, [actionEntry(), 'prune'], { encoding: 'utf8' });
    assert.equal(other.status, 2);
    assert.equal(other.stderr, 'error: the Action\'s bundle runs "dockyard build" only, not "prune"\n');
  });
});
