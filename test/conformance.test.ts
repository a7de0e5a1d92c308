import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dumpAll } from '../coordinator/dockerfile/dump.js';
import { parseDockerfile } from '../coordinator/dockerfile/parser.js';
import { repoRoot } from './helpers.js';

// BuildKit's own parser corpus, read from ../shared where CI places it. It is never copied in.
const corpus = process.env.DOCKYARD_CONFORMANCE_DIR ?? join(repoRoot, '..', 'shared', 'conformance', 'buildkit-parser');

describe('BuildKit parser conformance corpus', () => {
  it('is present', () => {
    assert.ok(existsSync(join(corpus, 'testfiles')), `conformance corpus missing at ${corpus}: clone the repo beside ../shared or set DOCKYARD_CONFORMANCE_DIR`);
  });

  const list = (dir: string): string[] => (existsSync(join(corpus, dir)) ? readdirSync(join(corpus, dir)).sort() : []);

  for (const name of list('testfiles')) {
    it(`dumps ${name} exactly as BuildKit does`, () => {
      const dockerfile = readFileSync(join(corpus, 'testfiles', name, 'Dockerfile'), 'utf8');
      const expected = readFileSync(join(corpus, 'testfiles', name, 'result'), 'utf8');
      assert.equal(dumpAll(parseDockerfile(dockerfile).instructions), expected);
    });
  }

  for (const name of list('testfiles-negative')) {
    it(`rejects ${name}`, () => {
      const dockerfile = readFileSync(join(corpus, 'testfiles-negative', name, 'Dockerfile'), 'utf8');
      assert.throws(() => parseDockerfile(dockerfile));
    });
  }

  it('keeps line ranges (testfile-line)', () => {
    const parsed = parseDockerfile(readFileSync(join(corpus, 'testfile-line', 'Dockerfile'), 'utf8'));
    const ranges = parsed.instructions.map((n) => [n.startLine, n.endLine]);
    assert.deepEqual(ranges, [
      [5, 5],
      [11, 12],
      [17, 31],
    ]);
    assert.equal(parsed.instructions[0]!.startLine, 5);
    assert.equal(parsed.instructions.at(-1)!.endLine, 31);
  });

  it('covers the expected number of cases', () => {
    assert.ok(list('testfiles').length >= 30, `only ${list('testfiles').length} positive cases found`);
    assert.ok(list('testfiles-negative').length >= 4);
  });
});
