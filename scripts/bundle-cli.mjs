// Bundles the CLI into dist/bin/: our own modules (cli/main.ts and what it imports, not node_modules)
// as one CommonJS program, dockyard-program.cjs, and the executable, dockyard.cjs (cli/launch.ts), which
// runs the program with a V8 code cache; CommonJS both, since an ES module entry costs Node's ESM loader.
// One file compiled once per command instead of the 150-odd modules a build would load and compile
// every run (bench/README.md has the figures). Packages stay external: they load from node_modules as
// usual, with the files they read at run time. The output sits two levels below the root, as tsc's
// dist/cli does, so package.json and proto/ resolve alike from both. `bin` is dist/bin/dockyard, a shell
// script that runs dockyard.cjs (see its comment). Usage: node scripts/bundle-cli.mjs
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bin');
// The code caches of the last build's program would only be rejected.
rmSync(outdir, { recursive: true, force: true });

const common = {
  absWorkingDir: root,
  bundle: true,
  packages: 'external',
  platform: 'node',
  target: 'node20',
  legalComments: 'none',
  logLevel: 'warning',
  format: 'cjs',
  // import.meta.url is the bundle file's URL, as in the modules tsc emits.
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: '"use strict";\nconst importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
};

await build({
  ...common,
  entryPoints: ['cli/main.ts'],
  outfile: join(outdir, 'dockyard-program.cjs'),
  // Lazy imports of packages become lazy requires: a script compiled by node:vm has no import().
  supported: { 'dynamic-import': false },
  sourcemap: 'linked',
});

await build({ ...common, entryPoints: ['cli/launch.ts'], outfile: join(outdir, 'dockyard.cjs') });

// Node parses NODE_EXTRA_CA_CERTS as it starts, before any code runs: 50 to 100 ms on every command,
// connecting or not. The script hands the file over under another name, read by oci/tls-roots.ts when
// a connection is made.
// The farm's long-running processes, `coordinator` and `worker`, get --initial-old-space-size: without
// it, V8 sizes the old generation from the small heap it finds at its first collection, and every
// buffer of a transfer (HTTP/2 reads, gRPC messages) counts against that limit, so the Content service
// ran a full collection every couple of downloads (bench/README.md, eighth pass). NODE_OPTIONS does not
// take it. Other commands start without it: it made `build` start 20 to 30 ms later.
writeFileSync(
  join(outdir, 'dockyard'),
  `#!/bin/sh
# dockyard: runs dockyard.cjs beside this file with the node on PATH. NODE_EXTRA_CA_CERTS is passed on as
# DOCKYARD_EXTRA_CA_CERTS, read when a connection is made rather than by Node at every start.
if [ -n "\${NODE_EXTRA_CA_CERTS-}" ]; then
  DOCKYARD_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS
  export DOCKYARD_EXTRA_CA_CERTS
  unset NODE_EXTRA_CA_CERTS
fi
self=$0
case $self in */*) ;; *) self=./$self ;; esac
# A link (npm's, from another folder) is followed; a direct call spares the readlink process.
if [ -L "$self" ]; then self=$(readlink -f -- "$self"); fi
# The farm's daemons start with a fixed size for V8's old generation: see scripts/bundle-cli.mjs.
case \${1-} in
  coordinator | worker) exec node --initial-old-space-size=64 "\${self%/*}/dockyard.cjs" "$@" ;;
esac
exec node "\${self%/*}/dockyard.cjs" "$@"
`,
  { mode: 0o755 },
);
