import { readFileSync } from 'node:fs';
import { tls } from './lazy-modules.js';

/**
 * What our TLS connections trust when the user added CA certificates through NODE_EXTRA_CA_CERTS:
 * Node's bundled roots and those, as Node itself would. `undefined` leaves Node's default trust.
 *
 * Why we read the file and not Node: Node parses it as it starts, before any code runs, for every
 * command, whether it connects anywhere or not (50 to 100 ms on the benchmark machine, more than a
 * no-op build's own work). The `dockyard` launcher (`dist/bin/dockyard`) hands the file over as
 * DOCKYARD_EXTRA_CA_CERTS instead, and it is read here when a connection is made.
 */
export function tlsRoots(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const file = env.DOCKYARD_EXTRA_CA_CERTS;
  if (!file) return undefined;
  try {
    return [...tls().rootCertificates, readFileSync(file, 'utf8')];
  } catch (err) {
    // What Node does with a NODE_EXTRA_CA_CERTS it cannot read: a warning, and the bundled roots.
    process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(err as Error).message}`);
    return undefined;
  }
}
