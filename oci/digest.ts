import { createHash } from 'node:crypto';

/** An OCI content digest, `sha256:<64 hex>`. */
export type Digest = `sha256:${string}`;

export function sha256(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function isDigest(s: string): s is Digest {
  return /^sha256:[a-f0-9]{64}$/.test(s);
}

/**
 * JSON with object keys sorted at every level, so that a value hashes the same whatever order
 * its keys were built in. Undefined members are dropped, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

export function digestOf(value: unknown): Digest {
  return sha256(canonicalJson(value));
}
