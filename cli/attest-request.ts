import { basename, isAbsolute, relative } from 'node:path';
import type { AttestRequest } from '../coordinator/solver/build.js';
import type { BuildFlags } from './build-flags.js';
import { version } from './version.js';

/**
 * What the provenance names that only the command knows: the Dockerfile relative to the context (its
 * name alone when outside it: host paths stay out), and the builder: the GitHub Actions run when in one,
 * as buildx does, else Dockyard.
 */
export function attestRequest(flags: BuildFlags, env: NodeJS.ProcessEnv = process.env): AttestRequest {
  const rel = flags.dockerfilePath === undefined ? '-' : relative(flags.contextDir, flags.dockerfilePath);
  const dockerfilePath = rel === '-' ? rel : rel.startsWith('..') || isAbsolute(rel) ? basename(flags.dockerfilePath!) : rel;
  // The run's URL as docker/actions-toolkit (and so build-push-action) names it.
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run, GITHUB_RUN_ATTEMPT: attempt } = env;
  const defaultBuilderId = server && repo && run ? `${server}/${repo}/actions/runs/${run}/attempts/${attempt || '1'}` : `urn:dockyard:builder:${version()}`;
  return { options: flags.attest, dockerfilePath, tool: `dockyard-${version()}`, defaultBuilderId };
}

