import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkExplainName, type ExplainStore } from './explain-store.js';

/** Explanations as files under `root/explain/`. */
export class FsExplainStore implements ExplainStore {
  private readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'explain');
    mkdirSync(this.dir, { recursive: true });
  }

  async get(name: string): Promise<string | undefined> {
    try {
      return readFileSync(join(this.dir, checkExplainName(name)), 'utf8');
    } catch {
      return undefined;
    }
  }

  /** Whole files only, as other builds read them concurrently; `clear` may empty the folder meanwhile. */
  async put(name: string, text: string): Promise<void> {
    const target = join(this.dir, checkExplainName(name));
    const tmp = join(this.dir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(this.dir, { recursive: true });
    await writeFile(tmp, text);
    await rename(tmp, target);
  }

  /** File by file: concurrent builds keep writing explanations into the folder. */
  async clear(): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names) if (!name.startsWith('.')) await rm(join(this.dir, name), { force: true });
  }
}
