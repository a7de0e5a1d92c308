import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, tempDir } from './helpers.js';

/** Every file under `dir`, relative to it, with its content. */
function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const abs = join(d, e.name);
      if (e.isDirectory()) walk(abs);
      else out.set(relative(dir, abs), readFileSync(abs, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

describe('proto/generated', () => {
  it('is what scripts/gen-proto.sh generates from proto/dockyard/v1 (run `npm run proto:gen` after editing a .proto)', () => {
    const fresh = join(tempDir('proto-gen'), 'generated');
    const r = spawnSync('bash', [join(repoRoot, 'scripts', 'gen-proto.sh'), fresh], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const want = tree(fresh);
    const have = tree(join(repoRoot, 'proto', 'generated'));
    assert.deepEqual([...have.keys()].sort(), [...want.keys()].sort(), 'generated files added or removed: run `npm run proto:gen`');
    for (const [file, text] of want) assert.equal(have.get(file), text, `proto/generated/${file} is stale: run \`npm run proto:gen\``);
  });
});
