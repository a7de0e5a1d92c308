import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The system tools a local build runs (worker/system), and the Ubuntu packages that hold them. */
const localBuildTools = { runc: 'runc', getfattr: 'attr', setfattr: 'attr' } as const;

function onPath(tool: string, path: string): boolean {
  return path.split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** One line naming what a local build would miss on this runner, and how to install it; undefined if nothing. */
export function missingToolsMessage(path: string): string | undefined {
  const missing = Object.keys(localBuildTools).filter((t) => !onPath(t, path)) as (keyof typeof localBuildTools)[];
  if (missing.length === 0) return undefined;
  const packages = [...new Set(missing.map((t) => localBuildTools[t]))];
  return `a local build needs ${missing.join(', ')} on the runner: install them first (sudo apt-get install -y ${packages.join(' ')}), or build on a farm with builder`;
}
