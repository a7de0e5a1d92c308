import { Redis } from 'ioredis';
import { ExpectedError } from '../../oci/expected-error.js';
import { tlsRoots } from '../../oci/tls-roots.js';

function withRoots(): { ca?: string[] } {
  const ca = tlsRoots();
  return ca ? { ca } : {};
}

/** A bad `--redis` URL or key prefix. */
export class QueueConfigError extends ExpectedError {}

/**
 * The default key prefix. The braces are a Redis Cluster hash tag: every key that starts with it hashes
 * to one slot, which BullMQ's multi-key scripts and ours need.
 */
export const DEFAULT_PREFIX = '{dockyard}';
export const DEFAULT_QUEUE_NAME = 'builds';

/** Where the farm's queue and locks live: one Redis (or Cluster slot), one prefix, shared by every coordinator. */
export interface RedisTarget {
  /** `redis://[user:password@]HOST:PORT[/DB]` (or `rediss://` for TLS). */
  redisUrl: string;
  /** Key prefix; must contain a non-empty `{hash tag}`. Default `{dockyard}`. */
  prefix?: string;
}

/** The prefix, checked: without a hash tag BullMQ's scripts fail on a Cluster with CROSSSLOT. */
export function checkPrefix(prefix: string = DEFAULT_PREFIX): string {
  if (!/\{[^{}]+\}/.test(prefix)) throw new QueueConfigError(`invalid Redis key prefix ${JSON.stringify(prefix)}: it needs a hash tag such as {dockyard}, so that its keys share one Cluster slot`);
  if (/\s/.test(prefix)) throw new QueueConfigError(`invalid Redis key prefix ${JSON.stringify(prefix)}: no spaces`);
  return prefix;
}

/** Connection settings both ioredis and BullMQ take. */
export interface RedisConnectionOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  /** With `rediss://`: the CAs to trust beyond the default (the user's NODE_EXTRA_CA_CERTS, oci/tls-roots.ts). */
  tls?: { ca?: string[] };
  maxRetriesPerRequest: null;
}

/** Options for a `redis://` URL. `maxRetriesPerRequest: null` because BullMQ's blocking calls need it. */
export function redisOptions(redisUrl: string): RedisConnectionOptions {
  let url: URL;
  try {
    url = new URL(redisUrl);
  } catch {
    throw new QueueConfigError(`invalid Redis URL ${JSON.stringify(redisUrl)}: expected redis://HOST:PORT`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new QueueConfigError(`invalid Redis URL ${JSON.stringify(redisUrl)}: expected redis://HOST:PORT`);
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new QueueConfigError(`invalid Redis URL ${JSON.stringify(redisUrl)}: bad database number`);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 6379,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(db ? { db } : {}),
    ...(url.protocol === 'rediss:' ? { tls: withRoots() } : {}),
    maxRetriesPerRequest: null,
  };
}

/** A plain ioredis client, for the farm's own keys (tenant slots, step locks): never for BullMQ's. */
export function connectRedis(redisUrl: string): Redis {
  return new Redis(redisOptions(redisUrl));
}
