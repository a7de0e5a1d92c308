import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ExpectedError } from '../../oci/expected-error.js';
import { parseGitRef, redactRemote } from '../plan/git-ref.js';
import { GitSourceError, GitSources } from '../solver/git-sources.js';
import type { WarmEntry } from './warm-file.js';

/** An entry's context is not there, or has no Dockerfile. */
export class WarmContextError extends ExpectedError {}

/** An entry's context as a directory here, with its Dockerfile read: built as `dockyard build` builds a path. */
export interface OpenedContext {
  dir: string;
  dockerfilePath: string;
  dockerfileText: string;
  /** Removes a git checkout; nothing for a path. */
  close(): Promise<void>;
}

/**
 * Opens an entry's context as it is now: a path as it stands, a git URL checked out at its ref's
 * current commit into `scratchDir` (the same fetch as ADD's git sources, with the system git), so each
 * warm run sees the current files.
 */
export async function openWarmContext(entry: WarmEntry, scratchDir: string): Promise<OpenedContext> {
  let dir: string;
  let close = async (): Promise<void> => {};
  if (entry.context.type === 'path') dir = entry.context.dir;
  else {
    const ref = parseGitRef(entry.context.url);
    if (!ref) throw new WarmContextError(`${entry.context.url} is not a git URL`);
    await mkdir(scratchDir, { recursive: true });
    const sources = new GitSources(scratchDir);
    close = () => sources.cleanup();
    try {
      const { commit } = await sources.resolve(ref);
      const tree = await sources.checkout({
        type: 'git',
        remote: redactRemote(ref.remote),
        ref: commit,
        commit,
        subdir: ref.subdir,
        keepGitDir: false,
        submodules: ref.submodules ?? true,
        mtime: ref.mtime ?? 'checkout',
      });
      dir = tree.dir;
    } catch (err) {
      await close();
      // The messages name ADD, where git sources usually come from.
      if (err instanceof GitSourceError) throw new WarmContextError(`context ${err.message.replace(/^ADD /, '')}`);
      throw err;
    }
  }
  const dockerfilePath = join(dir, entry.dockerfile);
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error();
  } catch {
    await close();
    throw new WarmContextError(`context ${dir} is not a directory`);
  }
  let dockerfileText: string;
  try {
    dockerfileText = await readFile(dockerfilePath, 'utf8');
  } catch {
    await close();
    throw new WarmContextError(`no Dockerfile ${entry.dockerfile} in the context`);
  }
  return { dir, dockerfilePath, dockerfileText, close };
}

/** The builds of one entry: one per target (the last stage when it names none). */
export function entryTargets(entry: WarmEntry): (string | undefined)[] {
  return entry.targets.length > 0 ? entry.targets : [undefined];
}
