// Bundles the GitHub Action (cli/action/entry.ts and everything it imports) into one ES module,
// dist/action/index.js, committed as JavaScript actions are. `npm run build:action` writes it;
// test/action-bundle.test.ts rebuilds it into a temporary file and checks the committed one is the same.
// Usage: node scripts/bundle-action.mjs [OUTFILE]
import { build } from 'esbuild';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = resolve(process.argv[2] ?? join(root, 'dist', 'action', 'index.js'));

await build({
  absWorkingDir: root,
  entryPoints: ['cli/action/entry.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Bundled CommonJS packages call require() for Node's built-in modules; an ES module has none.
  banner: { js: "import { createRequire as __dockyardRequire } from 'node:module';\nconst require = __dockyardRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
