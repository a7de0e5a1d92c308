import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './helpers.js';

/** Top-level folders from the floor up: a folder may import only its own level or lower ones. */
const LEVELS: Record<string, number> = { oci: 0, proto: 1, cache: 2, worker: 3, coordinator: 4, cli: 5 };

/** Folder -> folders its TypeScript sources import (relative imports only; generated code left out). */
function folderImports(): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'generated') walk(path);
      } else if (entry.name.endsWith('.ts')) {
        const from = dirname(path);
        for (const m of readFileSync(join(repoRoot, path), 'utf8').matchAll(/from '(\.[^']+)'/g)) {
          const to = dirname(normalize(join(from, m[1]!)));
          if (to !== from && !to.includes('generated')) (edges.get(from) ?? edges.set(from, new Set()).get(from)!).add(to);
        }
      }
    }
  };
  for (const top of Object.keys(LEVELS)) walk(top);
  return edges;
}

describe('the layering of the code', () => {
  const edges = folderImports();

  it('has no folder importing a higher layer', () => {
    const upward: string[] = [];
    for (const [from, tos] of edges) {
      for (const to of tos) {
        const [a, b] = [from.split('/')[0]!, to.split('/')[0]!];
        if (LEVELS[b] === undefined || LEVELS[b]! > LEVELS[a]!) upward.push(`${from} -> ${relative('.', to)}`);
      }
    }
    assert.deepEqual(upward, []);
  });

  it('has no cycle between folders', () => {
    const cycles: string[] = [];
    for (const [from, tos] of edges) {
      for (const to of tos) {
        // Is `from` reachable back from `to`?
        const seen = new Set<string>();
        const stack = [to];
        while (stack.length > 0) {
          const x = stack.pop()!;
          if (x === from) {
            cycles.push(`${from} <-> ${to}`);
            break;
          }
          if (seen.has(x)) continue;
          seen.add(x);
          stack.push(...(edges.get(x) ?? []));
        }
      }
    }
    assert.deepEqual(cycles, []);
  });
});
