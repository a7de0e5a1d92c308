import type { ExplainStore } from '../../cache/explain-store.js';
import { sha256 } from '../../oci/digest.js';
import type { Step, StepKey } from '../../worker/step.js';
import type { BuildPlan } from '../plan/plan-types.js';

/** What is remembered of a step between builds, to say why it missed the cache next time. */
interface StepRecord {
  key: StepKey;
  instruction: string;
  inputs: StepKey[];
  /** Hashes of RUN environment values by name: values themselves are never stored. */
  env?: Record<string, string>;
}

/** Per-file summaries of a context source: path -> type/mode/owner/content digest. */
export type FileMap = Record<string, string>;

/**
 * Explains cache misses concretely: which context file changed, which build arg or ENV differs, which
 * parent step changed, or that the step was never built. It compares a step with what the same
 * instruction (same Dockerfile, platform, stage and position) was the last time.
 */
export class MissExplainer {
  private readonly identity = new Map<StepKey, { id: string; instruction: string }>();
  private readonly steps: Map<StepKey, Step>;

  constructor(
    private readonly store: ExplainStore,
    plan: BuildPlan,
    private readonly describe: (key: StepKey) => string,
    private readonly contextFiles: (step: Step) => FileMap,
  ) {
    this.steps = new Map(plan.steps.map((s) => [s.key, s]));
    for (const t of plan.targets) {
      for (const st of t.stages) {
        st.entries
          .filter((e) => e.step)
          .forEach((e, i) => {
            if (this.identity.has(e.step!)) return;
            const id = sha256([plan.dockerfile, t.platform, st.name ?? st.index, i].join('\0')).slice(7);
            this.identity.set(e.step!, { id, instruction: e.instruction });
          });
      }
    }
  }

  private async read<T>(name: string): Promise<T | undefined> {
    const text = await this.store.get(name);
    try {
      return text === undefined ? undefined : (JSON.parse(text) as T);
    } catch {
      return undefined;
    }
  }

  private envHashes(step: Step): Record<string, string> | undefined {
    if (step.kind !== 'exec') return undefined;
    const out: Record<string, string> = {};
    for (const kv of step.exec.env) {
      const eq = kv.indexOf('=');
      out[kv.slice(0, eq)] = sha256(kv.slice(eq + 1)).slice(7, 23);
    }
    return out;
  }

  /** Remembers a step that was built or found, and a context's files by the context step's key. */
  async record(step: Step): Promise<void> {
    if (step.kind === 'source' && step.source.type === 'context') {
      const name = `context-${step.key.slice(7)}.json`;
      // Named by the context's checksum: one already there says the same (and is not parsed to know).
      if ((await this.store.get(name)) === undefined) await this.store.put(name, JSON.stringify(this.contextFiles(step)));
      return;
    }
    const who = this.identity.get(step.key);
    if (!who) return;
    const env = this.envHashes(step);
    const rec: StepRecord = { key: step.key, instruction: who.instruction, inputs: step.inputs, ...(env ? { env } : {}) };
    const text = JSON.stringify(rec);
    // A rebuild finds most steps as they were: a read is cheaper than a replace.
    if ((await this.store.get(`step-${who.id}.json`)) !== text) await this.store.put(`step-${who.id}.json`, text);
  }

  /** Why `step` was not in the cache, in one line. */
  async explain(step: Step, noCache: boolean): Promise<string> {
    if (noCache) return 'cache disabled for this step (--no-cache)';
    const who = this.identity.get(step.key);
    const prev = who ? await this.read<StepRecord>(`step-${who.id}.json`) : undefined;
    if (!who || !prev) return 'not built before: nothing cached for this step yet';
    if (prev.key === step.key) return 'its cached result was removed (pruned), so it runs again';
    if (prev.instruction !== who.instruction) return `the instruction changed (it was: ${prev.instruction.split('\n')[0]})`;
    const reasons: string[] = [];
    for (const [i, key] of step.inputs.entries()) {
      const old = prev.inputs[i];
      if (old === key) continue;
      const input = this.steps.get(key);
      if (input?.kind === 'source' && input.source.type === 'context') reasons.push(await this.contextChange(old, input));
      else if (input?.kind === 'source' && input.source.type === 'image') reasons.push(`base image ${input.source.ref} changed`);
      else reasons.push(`parent step changed: ${this.describe(key)}`);
    }
    const env = this.envHashes(step);
    if (env && prev.env) {
      const names = new Set([...Object.keys(env), ...Object.keys(prev.env)]);
      const changed = [...names].filter((n) => env[n] !== prev.env![n]).sort();
      if (changed.length) reasons.push(`build arg/ENV ${changed.join(', ')} changed`);
    }
    return reasons.length ? reasons.join('; ') : 'its definition changed';
  }

  private async contextChange(oldKey: StepKey | undefined, input: Step): Promise<string> {
    const before = oldKey ? await this.read<FileMap>(`context-${oldKey.slice(7)}.json`) : undefined;
    const now = this.contextFiles(input);
    if (!before) return 'the files it copies from the context changed';
    const changed: string[] = [];
    for (const [path, sum] of Object.entries(now)) if (before[path] !== sum) changed.push(before[path] === undefined ? `${path} (added)` : path);
    for (const path of Object.keys(before)) if (!(path in now)) changed.push(`${path} (removed)`);
    changed.sort();
    if (changed.length === 0) return 'the files it copies from the context changed';
    const shown = changed.slice(0, 3).join(', ');
    return `context file${changed.length > 1 ? 's' : ''} changed: ${shown}${changed.length > 3 ? ` and ${changed.length - 3} more` : ''}`;
  }
}
