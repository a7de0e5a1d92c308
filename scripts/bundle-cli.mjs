// Bundles the CLI's own modules (cli/main.ts and what it imports, not node_modules) into
// dist/bin/dockyard.js and a chunk per lazily loaded command. A few files instead of the 150-odd
// modules a build loads one by one: a no-op build starts about 30 ms sooner (bench/README.md).
// Packages stay external: they load from node_modules as usual, with the files they read at run time.
// The output sits two levels below the root, as tsc's dist/cli does, so package.json and proto/ resolve
// alike from both. Usage: node scripts/bundle-cli.mjs
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bin');
// Chunk names carry content hashes: last build's would stay beside this one's.
rmSync(outdir, { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: { dockyard: 'cli/main.ts' },
  outdir,
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});
