import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { addLeaseLine, emptyLeasedSet, LeaseBase, type Lease, type LeasedSet, type LeaseManager } from './lease.js';
import { isAlive, selfIdentity } from './process-identity.js';

const LEASE = '.lease';
const COLLECTING = '.gc';

/** `<boot>.<pid>.<start>.<random><suffix>`: the owner is the first three parts. */
const ownerOf = (name: string): string => name.split('.').slice(0, 3).join('.');

/**
 * Leases as files under `root/leases/`, for processes of one machine sharing a cache directory. Each
 * lease is an append-only list named after its owning process, which is alive exactly while its
 * identity (pid and start time) is; so a lease expires the moment its process dies, even by kill -9.
 *
 * Adds and collections follow Dekker's rule: a build appends to its lease and then looks for
 * collections; a collection announces itself and then reads the leases. Whichever comes second sees the
 * other, so either the collection keeps the resource or the build waits for it and checks again.
 */
export class FileLeases implements LeaseManager {
  readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'leases');
    mkdirSync(this.dir, { recursive: true });
  }

  async create(): Promise<Lease> {
    const id = `${selfIdentity()}.${randomBytes(6).toString('hex')}`;
    const file = join(this.dir, id + LEASE);
    await writeFile(file, '', { flag: 'wx' });
    return new FileLease(id, file, this);
  }

  /** The collections running now, by the names of their markers. */
  private collections(): string[] {
    return readdirSync(this.dir).filter((n) => n.endsWith(COLLECTING) && isAlive(ownerOf(n)));
  }

  /** Returns once every collection that runs now has ended (later ones already see the caller's lease). */
  async waitForCollections(): Promise<void> {
    let running = this.collections();
    while (running.length > 0) {
      await sleep(5);
      const now = new Set(this.collections());
      running = running.filter((n) => now.has(n));
    }
  }

  async collect<T>(fn: (leased: LeasedSet) => Promise<T>): Promise<T> {
    const marker = join(this.dir, `${selfIdentity()}.${randomBytes(6).toString('hex')}${COLLECTING}`);
    await writeFile(marker, '');
    try {
      return await fn(await this.readLeases());
    } finally {
      await unlink(marker).catch(() => undefined);
    }
  }

  /** Everything live leases hold; the files of dead owners are removed on the way. */
  private async readLeases(): Promise<LeasedSet> {
    const set = emptyLeasedSet();
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith(LEASE) && !name.endsWith(COLLECTING)) continue;
      if (!isAlive(ownerOf(name))) {
        await unlink(join(this.dir, name)).catch(() => undefined);
        continue;
      }
      if (!name.endsWith(LEASE)) continue;
      let text: string;
      try {
        text = readFileSync(join(this.dir, name), 'utf8');
      } catch {
        continue; // released meanwhile
      }
      for (const line of text.split('\n')) addLeaseLine(set, line);
    }
    return set;
  }

  /** How many leases are held by live processes (for `du`). */
  liveLeases(): number {
    return readdirSync(this.dir).filter((n) => n.endsWith(LEASE) && isAlive(ownerOf(n))).length;
  }
}

class FileLease extends LeaseBase {
  constructor(
    id: string,
    private readonly file: string,
    private readonly leases: FileLeases,
  ) {
    super(id);
  }

  protected async append(lines: string[]): Promise<void> {
    // Synchronous: a few lines into the page cache cost microseconds, where each of the open, write and
    // close of an asynchronous append waits for a thread-pool turn (a cache hit adds to its lease twice).
    appendFileSync(this.file, lines.map((l) => l + '\n').join(''));
    await this.leases.waitForCollections();
  }

  protected async drop(): Promise<void> {
    await unlink(this.file).catch(() => undefined);
  }
}
