import { tmpdir } from 'node:os';
import type { BuildPlan, ImageResolver, PlanOptions } from '../plan/plan-types.js';
import { planBuild } from '../plan/planner.js';
import { Registries, RegistryImages, registrySettings } from '../registry/registry-images.js';
import { ExpectedError } from '../../oci/expected-error.js';
import { GitSources } from './git-sources.js';
import { UrlFetcher } from './url-fetcher.js';

class DryRunResolveError extends ExpectedError {}

/**
 * Plans as a build would, without building: base images are resolved through the same registries,
 * mirrors and credentials as a build's (manifest and config only, no layers), and ADD URLs are hashed
 * without being stored, so that the plan's config and keys are the build's. `offline` contacts
 * nothing: remote sources stay unresolved and the plan lists them (`BuildPlan.unresolved`).
 */
export function dryRunPlan(opts: PlanOptions, { offline }: { offline: boolean }): Promise<BuildPlan> {
  if (offline) return planBuild(opts);
  const { insecure, mirrors } = registrySettings();
  const images = new RegistryImages(new Registries({ insecure }), undefined, mirrors);
  const resolver: ImageResolver = {
    resolve: (ref, platform) =>
      images.resolve(ref, platform).catch((err: unknown) => {
        throw new DryRunResolveError(`${err instanceof Error ? err.message : String(err)} (--offline plans without contacting registries)`);
      }),
  };
  const fetcher = new UrlFetcher();
  // Resolving a git ref runs git ls-remote only; the directory would hold checkouts, which a dry run never makes.
  const git = new GitSources(tmpdir());
  return planBuild({ resolver, ...opts, fetchUrl: (url, checksum) => fetcher.fetch(url, checksum), resolveGit: (ref) => git.resolve(ref) });
}
