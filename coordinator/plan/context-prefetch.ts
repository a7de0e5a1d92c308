import type { BuildContext } from '../context/build-context.js';
import { toStages, type StageDefinition } from '../dockerfile/instructions.js';
import { parseDockerfile } from '../dockerfile/parser.js';

/** Whether a stage copies from the build context: a COPY or ADD with sources and no `--from`. */
function copiesFromContext(stages: StageDefinition[]): boolean {
  return stages.some((s) => s.instructions.some((i) => (i.kind === 'copy' || i.kind === 'add') && i.copy.from === undefined && i.copy.sources.length > 0));
}

/**
 * Starts the walk of the build context in the background (`BuildContext.load`) when the Dockerfile
 * copies from it, so that it runs while other work goes on; planning awaits it where it needs it. A
 * Dockerfile that does not parse, or a context that cannot be opened, is reported by planning.
 */
export function prefetchContext(open: (name: string) => BuildContext, dockerfile: string | StageDefinition[]): void {
  try {
    if (copiesFromContext(typeof dockerfile === 'string' ? toStages(parseDockerfile(dockerfile)).stages : dockerfile)) void open('context').load();
  } catch {
    // Reported where it matters.
  }
}
