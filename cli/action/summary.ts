import type { StepRow } from './step-log.js';

/** What the job summary reports about one build. */
export interface SummaryFacts {
  steps: StepRow[];
  /** Undefined when the build failed. */
  digest?: string;
  imageid?: string;
  /** References pushed, each at `digest`. */
  pushed: string[];
  builder?: string;
  error?: string;
}

/** Table cells hold Dockerfile text: pipes and newlines would break the row. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? '' : `${(ms / 1000).toFixed(1)}s`;
}

/** The job summary: the outcome, the steps with cache hit or miss and why, and what was pushed. */
export function summaryMarkdown(f: SummaryFacts): string {
  const out: string[] = [`## Dockyard build ${f.error === undefined ? 'succeeded' : 'failed'}`, ''];
  if (f.builder) out.push(`Built on the farm at \`${f.builder}\`.`, '');
  if (f.error !== undefined) out.push('```', f.error, '```', '');
  if (f.digest) out.push(`- Digest: \`${f.digest}\``);
  if (f.imageid) out.push(`- Image ID: \`${f.imageid}\``);
  const looked = f.steps.filter((s) => s.cache !== 'ran');
  const hits = looked.filter((s) => s.cache === 'hit').length;
  if (looked.length > 0) out.push(`- Cache: ${hits} of ${looked.length} steps cached (${Math.round((100 * hits) / looked.length)}%)`);
  out.push('', '### Steps', '', '| # | Step | Cache | Reason | Duration |', '| --- | --- | --- | --- | --- |');
  for (const s of f.steps) {
    const cache = s.error !== undefined ? 'error' : s.cache;
    out.push(`| ${s.vertex} | ${cell(s.name)} | ${cache} | ${cell(s.error ?? s.reason ?? '')} | ${seconds(s.durationMs)} |`);
  }
  if (f.pushed.length > 0 && f.digest) {
    out.push('', '### Pushed', '', '| Tag | Digest |', '| --- | --- |');
    for (const ref of f.pushed) out.push(`| ${cell(ref)} | \`${f.digest}\` |`);
  }
  return out.join('\n') + '\n';
}
