/**
 * The miss explainer's memory between builds: small texts by name (what a step was last time, a
 * context's file summaries). `FsExplainStore` (files under `root/explain/`) or `RedisExplainStore`.
 * Names are `[A-Za-z0-9._-]+`, not starting with a dot.
 */
export interface ExplainStore {
  get(name: string): Promise<string | undefined>;
  /** Replaces the text whole: concurrent readers see the old text or the new one. */
  put(name: string, text: string): Promise<void>;
  /** Forgets everything (`prune --all`). */
  clear(): Promise<void>;
}

export function checkExplainName(name: string): string {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(name)) throw new Error(`invalid explanation name ${JSON.stringify(name)}`);
  return name;
}
