/**
 * A process that holds one lease on a blob until it is killed, for the dead-holder tests:
 * `node lease-holder.js fs DIR DIGEST` or `node lease-holder.js redis PORT PREFIX TTL_MS DIGEST`.
 * Prints `held` once the lease is in place.
 */
import { Redis } from 'ioredis';
import { FileLeases } from '../cache/file-leases.js';
import type { LeaseManager } from '../cache/lease.js';
import { RedisLeases } from '../cache/redis-leases.js';
import type { Digest } from '../oci/digest.js';

const [kind, ...args] = process.argv.slice(2);
let manager: LeaseManager;
let digest: Digest;
if (kind === 'fs') {
  manager = new FileLeases(args[0]!);
  digest = args[1] as Digest;
} else {
  manager = new RedisLeases(new Redis({ host: '127.0.0.1', port: Number(args[0]) }), { prefix: args[1]!, ttlMs: Number(args[2]) });
  digest = args[3] as Digest;
}
const lease = await manager.create();
await lease.add([{ kind: 'blob', digest }]);
process.stdout.write('held\n');
setInterval(() => undefined, 1 << 30);
