import { randomUUID } from 'node:crypto';
import { ExpectedError } from '../../oci/expected-error.js';
import type { SecretSource } from '../../worker/worker.js';

/** A secret was needed but could not be asked for. */
export class SecretUnavailableError extends ExpectedError {}

/** One client attached to a build on this coordinator: how to ask it for a secret. */
export interface AttachedClient {
  ask(requestId: string, secretId: string): void;
}

/** Where else a build's client may be attached: other coordinators (SecretRelay). */
export interface SecretPeers {
  ask(buildId: string, secretId: string): Promise<{ value: Buffer | undefined } | undefined>;
}

/**
 * Clients attached to builds on this coordinator. A step's secret is asked of a client attached here,
 * else, through `peers`, of one attached to another coordinator; the answer goes straight to the
 * worker: values never pass through Redis.
 */
export class AttachedClients {
  private readonly byBuild = new Map<string, Set<AttachedClient>>();
  private readonly pending = new Map<string, { resolve(v: Buffer | undefined): void; client: AttachedClient }>();

  constructor(private readonly peers?: SecretPeers) {}

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

  /** Asks a client of `buildId` attached here; undefined when none is. */
  askHere(buildId: string, secretId: string): Promise<Buffer | undefined> | undefined {
    const client = this.byBuild.get(buildId)?.values().next().value;
    if (!client) return undefined;
    const requestId = randomUUID();
    return new Promise<Buffer | undefined>((resolve) => {
      this.pending.set(requestId, { resolve, client });
      client.ask(requestId, secretId);
    });
  }

  /** The secrets of `buildId`, limited to the ids it declared (`--secret`). */
  secrets(buildId: string, allowed: ReadonlySet<string>): SecretSource {
    return {
      get: async (secretId) => {
        if (!allowed.has(secretId)) return undefined;
        const here = this.askHere(buildId, secretId);
        if (here) return here;
        const relayed = await this.peers?.ask(buildId, secretId);
        if (relayed) return relayed.value;
        throw new SecretUnavailableError(`secret ${secretId}: no client of this build is attached to any coordinator; attach again (dockyard build --builder retries) to provide it`);
      },
    };
  }
}
