/**
 * One contract, every backend: the same cases run against the filesystem store, index, explanations
 * and leases of the embedded cache, and against the farm's registry blob store and Redis index,
 * explanations and leases (a real docker-registry and a real redis-server on loopback ports).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { BlobError, putBlob, readBlob, type BlobStore } from '../cache/blob-store.js';
import type { CacheIndex, CacheRecord } from '../cache/cache-index.js';
import { ContentBlobStore } from '../cache/content-blob-store.js';
import type { ExplainStore } from '../cache/explain-store.js';
import { FileLeases } from '../cache/file-leases.js';
import { FsBlobStore } from '../cache/fs-blob-store.js';
import { FsCacheIndex } from '../cache/fs-cache-index.js';
import { FsExplainStore } from '../cache/fs-explain-store.js';
import { prune } from '../cache/gc.js';
import { LeaseBase, type Lease, type LeaseManager } from '../cache/lease.js';
import { RedisCacheIndex } from '../cache/redis-cache-index.js';
import { RedisExplainStore } from '../cache/redis-explain-store.js';
import { RedisLeases } from '../cache/redis-leases.js';
import { RegistryBlobStore } from '../cache/registry-blob-store.js';
import { openBlobStore } from '../cache/store-location.js';
import { contentService } from '../coordinator/farm/content-service.js';
import { sha256, type Digest } from '../oci/digest.js';
import { startGrpcServer, type StartedServer } from '../proto/transport.js';
import { tempDir } from './helpers.js';
import { startRedis, type TestRedis } from './redis-helpers.js';
import { startRegistry, type TestRegistry } from './registry-helpers.js';

let registry: TestRegistry;
let redis: TestRedis;
const servers: StartedServer[] = [];
const clients: ContentBlobStore[] = [];
before(async () => {
  [registry, redis] = await Promise.all([startRegistry({ deletes: true }), startRedis()]);
});
after(async () => {
  registry?.stop();
  await redis?.stop();
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.close()));
});

/** The coordinator's Content service on a loopback port, serving a fresh filesystem store, and a client of it. */
async function contentStore(): Promise<ContentBlobStore> {
  const token = randomBytes(8).toString('hex');
  const server = await startGrpcServer({ listen: '127.0.0.1:0', tls: {}, token, services: [contentService(new FsBlobStore(tempDir('served')), { spoolDir: tempDir('upload-spool') })] });
  servers.push(server);
  const store = new ContentBlobStore(server.address, { token }, { scratchDir: tempDir('spool') });
  clients.push(store);
  return store;
}

let fresh = 0;
/** A name no other case uses: a repository, a key prefix. */
const unique = (what: string): string => `${what}${++fresh}x${randomBytes(3).toString('hex')}`;

/** Redis leases expire 300 ms after their holder's last heartbeat in these tests. */
const REDIS_TTL_MS = 300;

interface Backend<T> {
  name: string;
  make(): T;
}

/** `deletes`: false for a store whose deletes are refused (the coordinator's store, seen through its Content service). */
const blobBackends: (Backend<BlobStore | Promise<BlobStore>> & { deletes: boolean })[] = [
  { name: 'filesystem', deletes: true, make: () => new FsBlobStore(tempDir('blobs')) },
  { name: 'registry', deletes: true, make: () => new RegistryBlobStore(`registry://${registry.host}/contract/${unique('repo')}`, { scratchDir: tempDir('spool') }) },
  { name: 'content service', deletes: false, make: contentStore },
];

const indexBackends: Backend<CacheIndex>[] = [
  { name: 'filesystem', make: () => new FsCacheIndex(tempDir('index')) },
  { name: 'redis', make: () => new RedisCacheIndex(redis.connect(), { prefix: unique('index') }) },
];

const explainBackends: Backend<ExplainStore>[] = [
  { name: 'filesystem', make: () => new FsExplainStore(tempDir('explain')) },
  { name: 'redis', make: () => new RedisExplainStore(redis.connect(), { prefix: unique('explain') }) },
];

/** A lease manager and the arguments of `lease-holder.js` that reach the same leases from another process. */
interface LeaseBackend {
  manager: LeaseManager;
  holderArgs: string[];
}

const leaseBackends: Backend<LeaseBackend>[] = [
  {
    name: 'filesystem',
    make: () => {
      const dir = tempDir('leases');
      return { manager: new FileLeases(dir), holderArgs: ['fs', dir] };
    },
  },
  {
    name: 'redis',
    make: () => {
      const prefix = unique('leases');
      return { manager: new RedisLeases(redis.connect(), { prefix, ttlMs: REDIS_TTL_MS }), holderArgs: ['redis', String(redis.port), prefix, String(REDIS_TTL_MS)] };
    },
  },
];

/** Whole stacks as they are deployed: the embedded cache, and the farm's. */
const stacks: Backend<{ blobs: BlobStore; index: CacheIndex; leases: LeaseManager }>[] = [
  {
    name: 'filesystem',
    make: () => {
      const dir = tempDir('cache');
      return { blobs: new FsBlobStore(dir), index: new FsCacheIndex(dir), leases: new FileLeases(dir) };
    },
  },
  {
    name: 'registry + redis',
    make: () => {
      const prefix = unique('farm');
      return {
        blobs: new RegistryBlobStore(`registry://${registry.host}/contract/${unique('farm')}`, { scratchDir: tempDir('spool') }),
        index: new RedisCacheIndex(redis.connect(), { prefix }),
        leases: new RedisLeases(redis.connect(), { prefix, ttlMs: REDIS_TTL_MS }),
      };
    },
  },
];

async function collectAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(p as Buffer);
  return Buffer.concat(parts);
}

async function listAll<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const record = (key: Digest, layers: { digest: Digest; size: number }[]): CacheRecord => ({
  key,
  layers: layers.map((l) => ({ digest: l.digest, diffID: sha256(l.digest), size: l.size, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' })),
  created: new Date(0).toISOString(),
});

describe('FsBlobStore.adoptFile', () => {
  it('takes a file its caller gives up, checked first, and keeps it once the caller removes its name', async () => {
    const store = new FsBlobStore(tempDir('adopting-store'));
    const dir = tempDir('adopt');
    const right = join(dir, 'right');
    writeFileSync(right, 'adopted bytes', { mode: 0o600 });
    assert.deepEqual(await store.adoptFile(right, sha256('adopted bytes')), { digest: sha256('adopted bytes'), size: 13 });
    unlinkSync(right);
    assert.equal((await readBlob(store, sha256('adopted bytes'))).toString(), 'adopted bytes');
    // The same bytes again: already there, nothing to do.
    writeFileSync(right, 'adopted bytes');
    assert.deepEqual(await store.adoptFile(right, sha256('adopted bytes')), { digest: sha256('adopted bytes'), size: 13 });
    const wrong = join(dir, 'wrong');
    writeFileSync(wrong, 'the wrong bytes');
    const expected = sha256('the right bytes');
    await assert.rejects(store.adoptFile(wrong, expected), (err: Error) => err instanceof BlobError && err.message === `content does not match its digest: expected ${expected}, got ${sha256('the wrong bytes')}`);
    assert.equal(await store.stat(expected), undefined);
    assert.deepEqual((await listAll(store.list())).map((b) => b.digest), [sha256('adopted bytes')]);
  });
});

for (const backend of blobBackends) {
  describe(`BlobStore contract: ${backend.name}`, () => {
    it('round-trips a blob written in pieces: stat, stream, read, exportTo, hold', async () => {
      const store = await backend.make();
      const data = randomBytes(3 << 20);
      const w = store.writer();
      for (let off = 0; off < data.length; off += 100_000) w.write(data.subarray(off, off + 100_000));
      const info = await w.commit();
      assert.deepEqual(info, { digest: sha256(data), size: data.length });
      assert.equal(await store.stat(info.digest), data.length);
      assert.ok((await collectAll(store.stream(info.digest))).equals(data));
      if (store.unchecked) assert.ok((await collectAll(store.unchecked(info.digest))).equals(data), 'unchecked gives the same bytes');
      if (store.openReader) {
        const reader = await store.openReader(info.digest);
        const into = Buffer.alloc(5000);
        assert.equal(await reader.read(into, 1_000_000), 5000);
        assert.ok(into.equals(data.subarray(1_000_000, 1_005_000)), 'openReader reads from the position given');
        assert.equal(await reader.read(into, data.length - 10), 10, 'a read past the end gives what is left');
        assert.ok(into.subarray(0, 10).equals(data.subarray(-10)));
        assert.equal(await reader.read(into, data.length), 0, 'and then nothing');
        await reader.close();
      }
      if (store.getBlobs) {
        const small = await putBlob(store, 'a small blob');
        const got = await store.getBlobs([sha256('never written'), small.digest]);
        assert.deepEqual([...got.keys()], [small.digest], 'getBlobs gives what the store holds, absent ones left out');
        assert.equal(got.get(small.digest)!.toString(), 'a small blob');
      }
      assert.ok((await readBlob(store, info.digest)).equals(data));
      const dest = join(tempDir('export'), 'blob');
      await store.exportTo(info.digest, dest);
      assert.ok(readFileSync(dest).equals(data));
      assert.equal(await store.hold(info.digest), true);
      const absent = sha256('never written');
      assert.equal(await store.stat(absent), undefined);
      assert.equal(await store.hold(absent), false);
      const small = await putBlob(store, '{"small":true}');
      assert.equal((await readBlob(store, small.digest)).toString(), '{"small":true}');
    });

    it('round-trips a blob larger than one upload chunk (16 MiB)', async () => {
      const store = await backend.make();
      const data = randomBytes((17 << 20) + 12345);
      const w = store.writer(sha256(data));
      for (let off = 0; off < data.length; off += 1 << 20) w.write(data.subarray(off, off + (1 << 20)));
      assert.deepEqual(await w.commit(), { digest: sha256(data), size: data.length });
      assert.equal(await store.stat(sha256(data)), data.length);
      assert.ok((await collectAll(store.stream(sha256(data)))).equals(data));
    });

    it('refuses content that does not match the expected digest, and shows nothing of it', async () => {
      const store = await backend.make();
      const data = Buffer.from('the wrong bytes');
      const expected = sha256('the right bytes');
      const w = store.writer(expected);
      w.end(data);
      await assert.rejects(w.commit(), (err: Error) => err instanceof BlobError && err.message === `content does not match its digest: expected ${expected}, got ${sha256(data)}`);
      assert.equal(await store.stat(expected), undefined);
      assert.equal(await store.stat(sha256(data)), undefined);
      if (store.canList) assert.deepEqual(await listAll(store.list()), []);
    });

    it('takes concurrent writers of one digest: every commit succeeds, one blob results', async () => {
      const store = await backend.make();
      const data = randomBytes(1 << 20);
      const infos = await Promise.all(
        Array.from({ length: 4 }, async () => {
          const w = store.writer(sha256(data));
          for (let off = 0; off < data.length; off += 65_536) w.write(data.subarray(off, off + 65_536));
          return w.commit();
        }),
      );
      for (const i of infos) assert.deepEqual(i, { digest: sha256(data), size: data.length });
      assert.ok((await readBlob(store, sha256(data))).equals(data));
      if (store.canList) assert.deepEqual((await listAll(store.list())).map((b) => b.digest), [sha256(data)]);
    });

    it('deletes a blob: gone afterwards, and a second delete says so', async () => {
      const store = await backend.make();
      const { digest } = await putBlob(store, 'to be deleted');
      const keep = await putBlob(store, 'to be kept');
      if (!backend.deletes) {
        await assert.rejects(store.delete(digest), (err: Error) => err instanceof BlobError && !err.message.includes('\n'));
        assert.equal(await store.stat(digest), 'to be deleted'.length);
        return;
      }
      assert.equal(await store.delete(digest), true);
      assert.equal(await store.stat(digest), undefined);
      assert.equal(await store.delete(digest), false);
      await assert.rejects(readBlob(store, digest));
      assert.equal((await readBlob(store, keep.digest)).toString(), 'to be kept');
    });

    it('lists every blob with size and arrival time, or declares that it cannot', async () => {
      const store = await backend.make();
      const before = Date.now();
      const put = await Promise.all(['a', 'bb', 'ccc'].map((t) => putBlob(store, t)));
      if (!store.canList) {
        await assert.rejects(listAll(store.list()), BlobError);
        return;
      }
      const listed = await listAll(store.list());
      assert.deepEqual(listed.map((b) => `${b.digest} ${b.size}`).sort(), put.map((b) => `${b.digest} ${b.size}`).sort());
      // File times come from a coarse kernel clock: a little before `before` is still this run.
      for (const b of listed) assert.ok(b.arrived.getTime() >= before - 1000 && b.arrived.getTime() <= Date.now() + 1000, b.arrived.toISOString());
    });
  });
}

for (const backend of indexBackends) {
  describe(`CacheIndex contract: ${backend.name}`, () => {
    it('round-trips records, replaces them whole, and answers undefined for unknown keys', async () => {
      const index = backend.make();
      const key = sha256(unique('key'));
      assert.equal(await index.get(key), undefined);
      const first = record(key, [{ digest: sha256('layer 1'), size: 10 }]);
      await index.put(first);
      assert.deepEqual(await index.get(key), first);
      const second = { ...record(key, [{ digest: sha256('layer 1'), size: 10 }, { digest: sha256('layer 2'), size: 20 }]), emptyLayer: true };
      await index.put(second);
      assert.deepEqual(await index.get(key), second);
    });

    it('lists every record with its last use; touch keeps a record and never makes one', async () => {
      const index = backend.make();
      const keys = [1, 2, 3].map((i) => sha256(unique(`list${i}`)));
      const before = Date.now();
      for (const k of keys) await index.put(record(k, []));
      await index.touch(keys[0]!);
      const ghost = sha256(unique('ghost'));
      await index.touch(ghost);
      assert.equal(await index.get(ghost), undefined);
      const listed = await listAll(index.list());
      assert.deepEqual(listed.map((e) => e.record.key).sort(), [...keys].sort());
      for (const e of listed) assert.ok(e.lastUsed.getTime() >= before - 1000 && e.lastUsed.getTime() <= Date.now() + 1000);
    });

    it('removes records: gone from get and list; removing twice is harmless', async () => {
      const index = backend.make();
      const [a, b] = [sha256(unique('a')), sha256(unique('b'))];
      await index.put(record(a, []));
      await index.put(record(b, []));
      await index.remove(a);
      await index.remove(a);
      assert.equal(await index.get(a), undefined);
      assert.deepEqual((await listAll(index.list())).map((e) => e.record.key), [b]);
    });

    it('takes concurrent writers of one key: a reader sees one whole record', async () => {
      const index = backend.make();
      const key = sha256(unique('race'));
      const versions = Array.from({ length: 8 }, (_, i) => record(key, Array.from({ length: i + 1 }, (_, j) => ({ digest: sha256(`l${j}`), size: j }))));
      await Promise.all(versions.map((v) => index.put(v)));
      const got = await index.get(key);
      assert.ok(versions.some((v) => JSON.stringify(v) === JSON.stringify(got)), JSON.stringify(got));
      assert.equal((await listAll(index.list())).length, 1);
    });
  });
}

for (const backend of explainBackends) {
  describe(`ExplainStore contract: ${backend.name}`, () => {
    it('keeps texts by name until cleared, and refuses names that are not plain', async () => {
      const store = backend.make();
      assert.equal(await store.get('step-abc.json'), undefined);
      await store.put('step-abc.json', '{"a":1}');
      await store.put('context-def.json', '{}');
      await store.put('step-abc.json', '{"a":2}');
      assert.equal(await store.get('step-abc.json'), '{"a":2}');
      await store.clear();
      assert.equal(await store.get('step-abc.json'), undefined);
      assert.equal(await store.get('context-def.json'), undefined);
      await assert.rejects(store.put('../escape', 'x'), /invalid explanation name/);
    });
  });
}

/** Starts `lease-holder.js` and resolves once its lease on `digest` is in place. */
async function holdInAnotherProcess(args: string[], digest: Digest): Promise<{ kill(): Promise<void> }> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'lease-holder.js');
  const child = spawn(process.execPath, [script, ...args, digest], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`lease holder exited with ${code}`)));
  });
  return {
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

const leasedBlobs = (m: LeaseManager): Promise<Set<Digest>> => m.collect(async (leased) => leased.blobs);

for (const backend of leaseBackends) {
  describe(`LeaseManager contract: ${backend.name}`, () => {
    it('shows a collection what live leases hold, and nothing after release', async () => {
      const { manager } = backend.make();
      const lease = await manager.create();
      const [blob, diff, key] = [sha256('b'), sha256('s'), sha256('r')];
      await lease.add([{ kind: 'blob', digest: blob }, { kind: 'snapshot', diffID: diff }, { kind: 'record', key }]);
      await lease.add([{ kind: 'blob', digest: blob }]);
      const seen = await manager.collect(async (l) => l);
      assert.deepEqual([[...seen.blobs], [...seen.snapshots], [...seen.records]], [[blob], [diff], [key]]);
      await lease.release();
      const after = await manager.collect(async (l) => l);
      assert.deepEqual([after.blobs.size, after.snapshots.size, after.records.size], [0, 0, 0]);
    });

    it("lets a dead holder's lease expire: after kill -9 a collection no longer sees it", async () => {
      const { manager, holderArgs } = backend.make();
      const digest = sha256(unique('dead'));
      const holder = await holdInAnotherProcess(holderArgs, digest);
      assert.ok((await leasedBlobs(manager)).has(digest), 'the live holder leases the blob');
      await holder.kill();
      // The filesystem sees the death at once; Redis after the TTL. Bounded only so that a failure ends.
      let free = false;
      for (let i = 0; i < 400 && !free; i++) {
        free = !(await leasedBlobs(manager)).has(digest);
        if (!free) await sleep(25);
      }
      assert.ok(free, 'the dead holder still leases the blob');
    });

    it('makes an add that races a running collection wait until that collection ends', async () => {
      const { manager } = backend.make();
      const lease = await manager.create();
      const events: string[] = [];
      let added: Promise<void> | undefined;
      await manager.collect(async () => {
        added = lease.add([{ kind: 'blob', digest: sha256('raced') }]).then(() => void events.push('add returned'));
        // Ample time for an add that did not wait to return: many round trips of the same backend.
        for (let i = 0; i < 20; i++) await (await manager.create()).release();
        events.push('collection ended');
      });
      await added;
      assert.deepEqual(events, ['collection ended', 'add returned']);
      await lease.release();
    });
  });
}

/** A lease whose backend only records what it is asked to append, and holds each append until `open`. */
class RecordingLease extends LeaseBase {
  readonly appends: string[][] = [];
  open!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.open = resolve));
  protected async append(lines: string[]): Promise<void> {
    this.appends.push(lines);
    await this.gate;
  }
  protected async drop(): Promise<void> {}
}

describe('LeaseBase', () => {
  it('appends the adds of one turn together, each line once, and resolves them once that append ends', async () => {
    const lease = new RecordingLease('recording');
    const digests = Array.from({ length: 300 }, (_, i) => sha256(`file ${i}`));
    let resolved = 0;
    const adds = [...digests, digests[0]!].map((digest) => lease.add([{ kind: 'blob', digest }]).then(() => void resolved++));
    await nextTurn();
    assert.deepEqual(lease.appends, [digests.map((d) => `blob ${d}`)]);
    assert.equal(resolved, 0, 'no add returns before its lines are appended');
    lease.open();
    await Promise.all(adds);
    await lease.add([{ kind: 'blob', digest: digests[1]! }, { kind: 'snapshot', diffID: digests[1]! }]);
    assert.deepEqual(lease.appends.slice(1), [[`snapshot ${digests[1]}`]], 'a later turn appends only what is new');
  });
});

for (const stack of stacks) {
  describe(`garbage collection: ${stack.name}`, () => {
    it('removes what nothing uses, and spares what a lease holds', async () => {
      const { blobs, index, leases } = stack.make();
      const held = await putBlob(blobs, 'held by a lease');
      const loose = await putBlob(blobs, 'used by nothing once its record goes');
      const kept = await putBlob(blobs, 'used by a record that stays');
      const [rHeld, rLoose, rKept] = [sha256(unique('r')), sha256(unique('r')), sha256(unique('r'))];
      await index.put(record(rHeld, [held]));
      await index.put(record(rLoose, [loose]));
      await index.put(record(rKept, [kept]));
      const lease = await leases.create();
      await lease.add([{ kind: 'blob', digest: held.digest }, { kind: 'record', key: rKept }]);
      const result = await leases.collect((leased) => prune(index, blobs, leased, { all: true, graceMs: 0 }));
      assert.deepEqual({ records: result.records, blobs: result.blobs, bytes: result.bytes }, { records: 2, blobs: 1, bytes: loose.size });
      assert.equal(await blobs.stat(loose.digest), undefined);
      assert.equal(await blobs.stat(held.digest), held.size);
      assert.equal(await blobs.stat(kept.digest), kept.size);
      assert.deepEqual((await listAll(index.list())).map((e) => e.record.key), [rKept]);
      await lease.release();
    });

    it("keeps Dekker's rule: a blob a build found while a collection ran is still there after it", async () => {
      const { blobs, leases } = stack.make();
      let kept = 0;
      let collected = 0;
      for (let round = 0; round < 12; round++) {
        const { digest } = await putBlob(blobs, `round ${round} ${unique('c')}`);
        const lease: Lease = await leases.create();
        const build = blobs.withLease(lease);
        // The two sides start a varying number of turns apart, so that each goes first in some rounds.
        const delay = async (n: number): Promise<void> => {
          for (let i = 0; i < n; i++) await nextTurn();
        };
        const [found] = await Promise.all([
          delay(round % 4).then(() => build.hold(digest)),
          delay((round * 3) % 5).then(() =>
            leases.collect(async (leased) => {
              if (!leased.blobs.has(digest)) await blobs.delete(digest);
            }),
          ),
        ]);
        const present = (await blobs.stat(digest)) !== undefined;
        if (found) assert.ok(present, `round ${round}: the build found the blob, then the collection removed it`);
        if (present) kept++;
        else collected++;
        await lease.release();
      }
      assert.equal(kept + collected, 12);
    });
  });
}

describe('store locations', () => {
  it('open a directory as the filesystem store and registry://HOST/REPO as a registry store, and refuse others in one line', async () => {
    const dir = tempDir('located');
    const local = openBlobStore(dir);
    const { digest } = await putBlob(local, 'in a directory');
    assert.ok(local instanceof FsBlobStore);
    assert.equal(await new FsBlobStore(dir).stat(digest), 'in a directory'.length);
    const remote = openBlobStore(`registry://${registry.host}/contract/${unique('located')}`, { scratchDir: tempDir('spool') });
    assert.ok(remote instanceof RegistryBlobStore);
    assert.equal(await remote.stat((await putBlob(remote, 'in a registry')).digest), 'in a registry'.length);
    assert.throws(() => openBlobStore('s3://bucket/path'), { message: 'unsupported store "s3://bucket/path": use a directory or registry://HOST/REPOSITORY' });
    assert.throws(() => openBlobStore('registry://host-only'), { message: 'invalid store "registry://host-only": use registry://HOST/REPOSITORY' });
  });
});

describe('Redis keys', () => {
  it('all live under the hash-tagged prefix, so that a Redis Cluster keeps them in one slot', async () => {
    const client = redis.connect();
    for (const prefix of [unique('tagged'), `${unique('given')}{team}`]) {
      const index = new RedisCacheIndex(client, { prefix });
      const explain = new RedisExplainStore(client, { prefix });
      const leases = new RedisLeases(client, { prefix, ttlMs: REDIS_TTL_MS });
      const key = sha256(unique('k'));
      await index.put(record(key, []));
      await explain.put('step-x.json', '{}');
      const lease = await leases.create();
      await lease.add([{ kind: 'record', key }]);
      const ours = (await client.keys('*')).filter((k) => k.includes(prefix.replace(/\{.*/, '')));
      const base = prefix.includes('{') ? prefix : `{${prefix}}`;
      assert.ok(ours.length >= 5, ours.join(' '));
      for (const k of ours) assert.ok(k.startsWith(`${base}:`), k);
      assert.equal(new Set(ours.map((k) => /\{([^}]*)\}/.exec(k)![1])).size, 1);
      await lease.release();
    }
  });
});
