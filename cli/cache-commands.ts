import { resolve } from 'node:path';
import { defaultCacheDir } from '../cache/cache-dir.js';
import type { IndexEntry } from '../cache/cache-index.js';
import { FileLeases } from '../cache/file-leases.js';
import { FsBlobStore } from '../cache/fs-blob-store.js';
import { FsCacheIndex } from '../cache/fs-cache-index.js';
import { verifyCache } from '../cache/verify.js';
import { blobUsage, formatSize, parseDurationMs, parseSize } from '../cache/gc.js';
import { pruneCache } from '../coordinator/solver/cache-maintenance.js';
import { parseCommandArgs, UsageError } from './errors.js';

export const duHelp = `Usage: dockyard du [--cache-dir DIR] [--verbose] [--verify]

Show disk usage of the build cache.

Options:
  -v, --verbose        List every record
      --verify         Also check that every record's blobs are present and every blob matches its digest
                       (exit 1 on any problem)
      --cache-dir DIR  Cache location (default: $DOCKYARD_CACHE_DIR or ~/.cache/dockyard)
`;

export const pruneHelp = `Usage: dockyard prune [OPTIONS]

Remove build cache. Without options, removes only blobs no cache record uses.

Options:
  -a, --all                  Remove all build cache
      --keep-duration DUR    Keep cache used within DUR (e.g. 24h, 7d)
      --keep-storage SIZE    Keep at most SIZE of cache, least recently used removed first (e.g. 10GB)
      --cache-dir DIR        Cache location (default: $DOCKYARD_CACHE_DIR or ~/.cache/dockyard)
`;

const common = { 'cache-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;
const duOptions = { ...common, verbose: { type: 'boolean', short: 'v' }, verify: { type: 'boolean' } } as const;
const pruneOptions = { ...common, all: { type: 'boolean', short: 'a' }, 'keep-duration': { type: 'string' }, 'keep-storage': { type: 'string' }, force: { type: 'boolean', short: 'f' } } as const;

const cacheDirOf = (flag: string | undefined): string => (flag ? resolve(flag) : defaultCacheDir());

export async function duCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values } = parseCommandArgs('du', { args: argv, options: duOptions, strict: true });
  if (values.help) return out.write(duHelp), 0;
  const dir = cacheDirOf(values['cache-dir']);
  const blobs = new FsBlobStore(dir);
  const index = new FsCacheIndex(dir);
  const records: IndexEntry[] = [];
  for await (const e of index.list()) records.push(e);
  records.sort((a, b) => b.lastUsed.getTime() - a.lastUsed.getTime());
  const lines = [`${'ID'.padEnd(14)}${'SIZE'.padStart(10)}  LAST ACCESSED`];
  for (const { record, lastUsed } of records) {
    const own = record.emptyLayer ? 0 : (record.layers.at(-1)?.size ?? 0);
    if (values.verbose || lines.length <= 20) lines.push(`${record.key.slice(7, 19).padEnd(14)}${formatSize(own).padStart(10)}  ${lastUsed.toISOString()}`);
  }
  const usage = (await blobUsage(blobs))!;
  lines.push(`Records: ${records.length}`, `Blobs: ${usage.count}`, `Total: ${formatSize(usage.bytes)}`, `Leases: ${new FileLeases(dir).liveLeases()}`);
  out.write(lines.join('\n') + '\n');
  if (!values.verify) return 0;
  const lease = await new FileLeases(dir).create();
  try {
    const report = await verifyCache(index, blobs, lease);
    for (const p of report.problems) out.write(`${p}\n`);
    out.write(`Verified ${report.records} records and ${report.blobs} blobs: ${report.problems.length === 0 ? 'OK' : `${report.problems.length} problems`}\n`);
    return report.problems.length === 0 ? 0 : 1;
  } finally {
    await lease.release();
  }
}

export async function pruneCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values } = parseCommandArgs('prune', { args: argv, options: pruneOptions, strict: true });
  if (values.help) return out.write(pruneHelp), 0;
  let keepDurationMs: number | undefined;
  let keepStorage: number | undefined;
  try {
    if (values['keep-duration'] !== undefined) keepDurationMs = parseDurationMs(values['keep-duration']);
    if (values['keep-storage'] !== undefined) keepStorage = parseSize(values['keep-storage']);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const dir = cacheDirOf(values['cache-dir']);
  const result = await pruneCache(dir, { all: values.all === true, ...(keepDurationMs !== undefined ? { keepDurationMs } : {}), ...(keepStorage !== undefined ? { keepStorage } : {}) });
  out.write(`Removed ${result.records} cache records, ${result.blobs} blobs, ${result.snapshots} snapshots\nTotal reclaimed space: ${formatSize(result.bytes)}\n`);
  return 0;
}
