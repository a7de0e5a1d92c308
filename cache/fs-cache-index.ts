import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { open, readdir, rename, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../oci/digest.js';
import { parseRecord, type CacheIndex, type CacheRecord, type IndexEntry } from './cache-index.js';

/** The index as one small JSON file per key under `root/index/`; the file's mtime is its last use. */
export class FsCacheIndex implements CacheIndex {
  private readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'index');
    mkdirSync(this.dir, { recursive: true });
  }

  private file(key: Digest): string {
    return join(this.dir, key.slice(7) + '.json');
  }

  // Synchronous underneath: records are tiny, and a no-op rebuild is one lookup per step.
  async get(key: Digest): Promise<CacheRecord | undefined> {
    let text: string;
    try {
      text = readFileSync(this.file(key), 'utf8');
    } catch {
      return undefined;
    }
    return parseRecord(text, key);
  }

  async put(record: CacheRecord): Promise<void> {
    const tmp = join(this.dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(JSON.stringify(record));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file(record.key)).catch(async (err: unknown) => {
      await unlink(tmp).catch(() => undefined);
      throw err;
    });
  }

  async touch(key: Digest): Promise<void> {
    const now = new Date();
    await utimes(this.file(key), now, now).catch(() => undefined);
  }

  async remove(key: Digest): Promise<void> {
    await unlink(this.file(key)).catch(() => undefined);
  }

  async *list(): AsyncIterable<IndexEntry> {
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const key = `sha256:${name.slice(0, -5)}` as Digest;
      const record = await this.get(key);
      // A record pruned by another process between the two reads is simply not listed.
      const st = record && (await stat(this.file(key)).catch(() => undefined));
      if (record && st) yield { record, lastUsed: st.mtime };
    }
  }
}
