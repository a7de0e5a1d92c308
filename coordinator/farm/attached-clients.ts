import { randomUUID } from 'node:crypto';
import { ExpectedError } from '../../oci/expected-error.js';
import type { SecretSource } from '../../worker/worker.js';

/** A secret was needed but could not be asked for. */
export class SecretUnavailableError extends ExpectedError {}

/** One client attached to a build on this coordinator: how to ask it for a secret. */
export interface AttachedClient {
  ask(requestId: string, secretId: string): void;
}

/**
 * Clients attached to builds on this coordinator. A step's secret is asked of a client attached here,
 * and the answer goes straight to the worker: values never pass through Redis. The limit that follows:
 * the coordinator running a build must be one its client is attached to (a build taken over by another
 * coordinator gets its secrets once the client re-attaches there).
 */
export class AttachedClients {
  private readonly byBuild = new Map<string, Set<AttachedClient>>();
  private readonly pending = new Map<string, { resolve(v: Buffer | undefined): void; client: AttachedClient }>();

  add(buildId: string, client: AttachedClient): () => void {
    let set = this.byBuild.get(buildId);
    if (!set) this.byBuild.set(buildId, (set = new Set()));
    set.add(client);
    return () => {
      set.delete(client);
      if (set.size === 0) this.byBuild.delete(buildId);
      // A client that left answers nothing: its requests end as "not found".
      for (const [id, p] of this.pending) if (p.client === client) this.answer(id, undefined);
    };
  }

  answer(requestId: string, value: Buffer | undefined): void {
    const p = this.pending.get(requestId);
    if (!p) return;
    this.pending.delete(requestId);
    p.resolve(value);
  }

  /** The secrets of `buildId`, limited to the ids it declared (`--secret`). */
  secrets(buildId: string, allowed: ReadonlySet<string>): SecretSource {
    return {
      get: (secretId) => {
        if (!allowed.has(secretId)) return Promise.resolve(undefined);
        const client = this.byBuild.get(buildId)?.values().next().value;
        if (!client) return Promise.reject(new SecretUnavailableError(`secret ${secretId}: no client of this build is attached to the coordinator running it; attach again (dockyard build --builder retries) to provide it`));
        const requestId = randomUUID();
        return new Promise<Buffer | undefined>((resolve) => {
          this.pending.set(requestId, { resolve, client });
          client.ask(requestId, secretId);
        });
      },
    };
  }
}
