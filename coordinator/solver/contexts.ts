import { BuildContext } from '../context/build-context.js';
import type { NamedContext } from '../context/named-contexts.js';

/** Opens the build context and local named contexts on first use, once each, for both planning and execution. */
export function contextOpener(contextDir: string, dockerfilePath: string | undefined, named: Map<string, NamedContext>): (name: string) => BuildContext {
  const open = new Map<string, BuildContext>();
  return (name: string) => {
    let ctx = open.get(name);
    if (!ctx) {
      const n = named.get(name);
      ctx = n?.type === 'local' ? BuildContext.open(n.dir) : BuildContext.open(contextDir, dockerfilePath);
      open.set(name, ctx);
    }
    return ctx;
  };
}
