import type { Step } from './graph.js';
import type { UnresolvedSource } from './plan-types.js';

/**
 * The source steps a plan could not pin: an image without its manifest digest, a URL without its
 * content digest, a git source (not resolved to a commit during planning). Read off the steps
 * themselves, so that whatever resolution planning skipped (`--offline`) shows up here.
 */
export function unresolvedSources(steps: Step[]): UnresolvedSource[] {
  const out: UnresolvedSource[] = [];
  for (const step of steps) {
    if (step.kind !== 'source') continue;
    const s = step.source;
    const at = { key: step.key, platform: step.platform };
    if (s.type === 'image' && s.digest === undefined) out.push({ ...at, type: 'image', ref: s.ref });
    else if (s.type === 'http' && s.digest === undefined) out.push({ ...at, type: 'http', ref: s.url });
    else if (s.type === 'git' && s.commit === undefined) out.push({ ...at, type: 'git', ref: s.remote });
  }
  return out;
}
