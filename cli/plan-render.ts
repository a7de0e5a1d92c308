import type { Step, StepKey } from '../coordinator/plan/graph.js';
import type { BuildPlan } from '../coordinator/plan/plan-types.js';
import { escapeControls } from './escape-controls.js';

/**
 * `--dry-run --format json`: the plan with each stage's steps joined to their keys, kinds and inputs.
 * Sources that could not be pinned (`--offline`) are listed in `unresolved` and marked
 * `"unresolved": true` where they appear: on a stage whose base image it is, and on its step rows.
 */
export function planToJson(plan: BuildPlan): unknown {
  const byKey = new Map(plan.steps.map((s) => [s.key, s]));
  const unresolved = new Set(plan.unresolved.map((u) => u.key));
  return {
    dockerfile: plan.dockerfile,
    buildPlatform: plan.buildPlatform,
    ...(plan.sourceDateEpoch !== undefined ? { sourceDateEpoch: plan.sourceDateEpoch } : {}),
    warnings: plan.warnings,
    unresolved: plan.unresolved,
    targets: plan.targets.map((t) => ({
      platform: t.platform,
      target: t.target,
      result: t.result,
      stages: t.stages.map((s) => ({
        index: s.index,
        ...(s.name ? { name: s.name } : {}),
        base: s.base,
        ...(s.unresolved ? { unresolved: true } : {}),
        platform: s.platform,
        result: s.result,
        steps: s.entries.map((e) => {
          const step = e.step ? byKey.get(e.step) : undefined;
          return {
            line: e.line,
            instruction: e.instruction,
            ...(step ? { key: step.key, kind: step.kind, inputs: step.inputs } : { kind: 'config' }),
            ...(step && unresolved.has(step.key) ? { unresolved: true } : {}),
          };
        }),
      })),
      image: t.image,
    })),
    steps: plan.steps,
  };
}

const short = (key: StepKey | null): string => (key ? key.slice(7, 19) : 'scratch');

function describe(step: Step): string {
  switch (step.kind) {
    case 'source':
      switch (step.source.type) {
        case 'image':
          return `image ${step.source.ref}`;
        case 'context':
          return `context ${step.source.include.join(' ') || '.'}`;
        case 'http':
          return `http ${step.source.url}`;
        case 'git':
          return `git ${step.source.remote}${step.source.ref ? '#' + step.source.ref : ''}${step.source.subdir ? ':' + step.source.subdir : ''}`;
      }
      break;
    case 'exec':
      return 'exec';
    case 'file':
      return step.file.action;
    case 'merge':
      return 'merge';
  }
}

/** Marks what `--offline` left unresolved in the text form. */
const UNRESOLVED = 'UNRESOLVED';

/**
 * `--dry-run`: a readable listing, one line per instruction, then the image config of each target.
 * Unresolved sources are counted under the title and marked UNRESOLVED on their stage and step rows.
 */
export function planToText(plan: BuildPlan): string {
  const byKey = new Map(plan.steps.map((s) => [s.key, s]));
  const unresolved = new Set(plan.unresolved.map((u) => u.key));
  const useCount = new Map<StepKey, number>();
  // FROM rows repeat the base's step; they do not count as another use of it.
  for (const t of plan.targets) for (const s of t.stages) for (const e of s.entries.slice(1)) if (e.step) useCount.set(e.step, (useCount.get(e.step) ?? 0) + 1);
  const lines: string[] = [];
  lines.push(`Plan for ${plan.dockerfile} (build platform ${plan.buildPlatform}, ${plan.steps.length} steps)`);
  if (plan.unresolved.length > 0) {
    const n = plan.unresolved.length;
    lines.push(`${UNRESOLVED}: ${n} remote source${n > 1 ? 's' : ''} not resolved (--offline): an unresolved base adds no config, and the keys of steps using one differ from a build's`);
  }
  for (const w of plan.warnings) lines.push(`WARNING: ${w.line !== undefined ? `line ${w.line}: ` : ''}${w.message}`);
  for (const t of plan.targets) {
    lines.push('', `Target ${t.platform}: stage ${t.target} -> ${short(t.result)}`);
    for (const s of t.stages) {
      lines.push(`  stage ${s.index}${s.name ? ` "${s.name}"` : ''} FROM ${s.base} [${s.platform}]${s.unresolved ? ` ${UNRESOLVED}` : ''}`);
      for (const [i, e] of s.entries.entries()) {
        const step = e.step ? byKey.get(e.step) : undefined;
        const text = e.instruction.split('\n')[0]!;
        const instr = text.length > 48 ? text.slice(0, 47) + '…' : text;
        const baseStage = i === 0 && step && !(step.kind === 'source' && step.source.type === 'image');
        if (baseStage) {
          lines.push(`    ${String(e.line).padStart(4)}  ${instr.padEnd(48)}  ${short(step.key)} from stage ${s.base}`);
          continue;
        }
        if (!step) {
          lines.push(`    ${String(e.line).padStart(4)}  ${instr.padEnd(48)}  config`);
          continue;
        }
        const inputs = step.inputs.length ? ' <- ' + step.inputs.map(short).join(' ') : '';
        const shared = (useCount.get(step.key) ?? 0) > 1 ? ' (shared)' : '';
        const mark = unresolved.has(step.key) ? ` ${UNRESOLVED}` : '';
        lines.push(`    ${String(e.line).padStart(4)}  ${instr.padEnd(48)}  ${short(step.key)} ${describe(step)}${inputs}${shared}${mark}`);
      }
    }
    lines.push('  image config:');
    const c = t.image.config as Record<string, unknown>;
    for (const [k, v] of Object.entries(c)) {
      // Env shows one variable a line, aligned under the first.
      const rows = Array.isArray(v) && k === 'Env' ? v.map(String) : [JSON.stringify(v)];
      rows.forEach((row, i) => lines.push(`    ${(i === 0 ? k : '').padEnd(12)} ${row}`));
    }
  }
  // Instructions and values come from the Dockerfile: no terminal escapes reach the screen.
  return lines.map(escapeControls).join('\n') + '\n';
}
