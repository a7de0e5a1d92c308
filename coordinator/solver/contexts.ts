import { BuildContext } from '../context/build-context.js';
import type { NamedContext } from '../context/named-contexts.js';
import type { ContextHashStore } from '../context/file-hashes.js';

/** Opens the build context and local named contexts on first use, once each, for both planning and execution. */
/** With `hashes`, file contents hashed by an earlier build are not hashed again while their stamps hold. */
export function contextOpener(contextDir: string, dockerfilePath: string | undefined, named: Map<string, NamedContext>, hashes?: ContextHashStore): (name: string) => BuildContext {
  const open = new Map<string, BuildContext>();
  return (name: string) => {
    let ctx = open.get(name);
    if (!ctx) {
      const n = named.get(name);
      ctx = n?.type === 'local' ? BuildContext.open(n.dir, undefined, hashes) : BuildContext.open(contextDir, dockerfilePath, hashes);
      open.set(name, ctx);
    }
    return ctx;
  };
}
