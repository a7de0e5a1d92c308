import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dumpAll } from '../coordinator/dockerfile/dump.js';
import { DockerfileError } from '../coordinator/dockerfile/errors.js';
import { parseDockerfile } from '../coordinator/dockerfile/parser.js';
import { conformanceCorpus } from './helpers.js';

describe('BuildKit parser conformance corpus', () => {
  const corpus = conformanceCorpus();
  const list = (dir: string): string[] => readdirSync(join(corpus, dir)).sort();

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
      // A user error naming its line: a crash would pass a bare assert.throws.
      assert.throws(() => parseDockerfile(dockerfile), (e: unknown) => e instanceof DockerfileError && e.line !== undefined);
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
});
