import { randomUUID } from 'node:crypto';
import type { SecretValue__Output } from '../../proto/generated/dockyard/v1/SecretValue.js';
import type { SecretSource } from '../worker.js';

/**
 * One step's secrets, asked for over the worker's Connect stream when the step mounts them and
 * answered by the coordinator for that step only. Values stay in memory: LocalWorker puts them on a
 * tmpfs for the step's lifetime.
 */
export class StreamSecrets implements SecretSource {
  private readonly pending = new Map<string, { resolve(v: Buffer | undefined): void; reject(e: Error): void }>();

  constructor(private readonly request: (requestId: string, secretId: string) => void) {}

  get(id: string): Promise<Buffer | undefined> {
    const requestId = randomUUID();
    const answer = new Promise<Buffer | undefined>((resolve, reject) => this.pending.set(requestId, { resolve, reject }));
    this.request(requestId, id);
    return answer;
  }

  /** The coordinator's answer; ones for requests we did not make are ignored. */
  answer(msg: SecretValue__Output): void {
    const p = this.pending.get(msg.requestId);
    if (!p) return;
    this.pending.delete(msg.requestId);
    p.resolve(msg.found ? Buffer.from(msg.value) : undefined);
  }

  /** The stream broke or the step ended: nobody will answer. */
  fail(reason: Error): void {
    for (const p of this.pending.values()) p.reject(reason);
    this.pending.clear();
  }
}
