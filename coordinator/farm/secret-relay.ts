import * as grpc from '@grpc/grpc-js';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RedisKeyspace } from '../../cache/redis-keyspace.js';
import { loadDockyardProto } from '../../proto/load.js';
import type { BuildClient } from '../../proto/generated/dockyard/v1/Build.js';
import type { RelaySecretRequest } from '../../proto/generated/dockyard/v1/RelaySecretRequest.js';
import type { RelaySecretResponse__Output } from '../../proto/generated/dockyard/v1/RelaySecretResponse.js';
import { dialOptions, type DialOptions } from '../../proto/transport.js';

/** A peer's answer: no client of the build attached there, or the client's answer (undefined: it has no such secret). */
export type RelayAnswer = { attached: false } | { attached: true; value: Buffer | undefined };

/** How long a peer may take to get a value from its client. */
const ASK_TIMEOUT_MS = 30_000;
/** A coordinator that died while a client was attached leaves its address behind until then. */
const ATTACHMENT_TTL_S = 24 * 3600;

/**
 * Secrets across coordinators. A client is attached to one coordinator; its build may run on
 * another. Each coordinator notes in Redis, per build, the address where its clients are attached
 * (an address, never a value); the one running the build asks those peers over gRPC (RelaySecret),
 * and the peer asks its client. A secret's value thus travels client -> coordinator -> coordinator ->
 * worker, in memory and over authenticated gRPC only.
 */
export class SecretRelay {
  private readonly keys: RedisKeyspace;
  private readonly peers = new Map<string, BuildClient>();

  constructor(
    private readonly redis: Redis,
    prefix: string,
    /** This coordinator's address as its peers reach it (`--advertise`), known once it listens. */
    private readonly self: Promise<string>,
    private readonly dial: DialOptions,
  ) {
    this.keys = new RedisKeyspace(prefix);
  }

  private key(buildId: string): string {
    return this.keys.key('attached', buildId);
  }

  private grantKey(buildId: string): string {
    return this.keys.key('relay-grant', buildId);
  }

  /**
   * The build's relay grant: a random value in Redis that a coordinator sends with RelaySecret and its
   * peer checks, so that only coordinators (which reach Redis), not every holder of the farm token, can
   * have a client asked for a secret.
   */
  private async grant(buildId: string): Promise<string> {
    const key = this.grantKey(buildId);
    await this.redis.set(key, randomBytes(32).toString('hex'), 'EX', ATTACHMENT_TTL_S, 'NX');
    const grant = await this.redis.get(key);
    if (!grant) throw new Error(`no relay grant for build ${buildId}`);
    return grant;
  }

  /** Whether `grant` is the build's relay grant. */
  async granted(buildId: string, grant: string): Promise<boolean> {
    const expected = await this.redis.get(this.grantKey(buildId));
    return expected !== null && expected.length === grant.length && timingSafeEqual(Buffer.from(expected), Buffer.from(grant));
  }

  /** Notes a client of `buildId` attached here; the returned function notes it gone. */
  async attached(buildId: string): Promise<() => Promise<void>> {
    const key = this.key(buildId);
    const self = await this.self;
    await this.redis.multi().hincrby(key, self, 1).expire(key, ATTACHMENT_TTL_S).exec();
    return async () => {
      // The last client here gone: the field goes, so peers do not call for nothing.
      await this.redis.eval(`if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end`, 1, key, self);
    };
  }

  /** Asks the peers where clients of `buildId` are attached, in turn; undefined when none has one. */
  async ask(buildId: string, secretId: string): Promise<{ value: Buffer | undefined } | undefined> {
    const self = await this.self;
    const addresses = Object.keys(await this.redis.hgetall(this.key(buildId))).filter((a) => a !== self);
    if (addresses.length === 0) return undefined;
    const grant = await this.grant(buildId);
    for (const address of addresses) {
      const answer = await this.askPeer(address, { buildId, secretId, grant }).catch(() => ({ attached: false }) as const);
      if (answer.attached) return { value: answer.value };
    }
    return undefined;
  }

  private askPeer(address: string, req: RelaySecretRequest): Promise<RelayAnswer> {
    let client = this.peers.get(address);
    if (!client) {
      const { credentials, options } = dialOptions(this.dial);
      client = new (loadDockyardProto().dockyard.v1.Build)(address, credentials, options) as unknown as BuildClient;
      this.peers.set(address, client);
    }
    return new Promise((resolve, reject) => {
      client.RelaySecret(req, { deadline: Date.now() + ASK_TIMEOUT_MS }, (err: grpc.ServiceError | null, res?: RelaySecretResponse__Output) => {
        if (err || !res) reject(err ?? new Error('no answer'));
        else resolve(res.attached ? { attached: true, value: res.found ? res.value : undefined } : { attached: false });
      });
    });
  }

  close(): void {
    for (const c of this.peers.values()) c.close();
    this.peers.clear();
  }
}
