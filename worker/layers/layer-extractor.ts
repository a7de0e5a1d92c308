import { chmod, lchown, link, lstat, lutimes, mkdir, open, rm, symlink, utimes } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Header } from 'tar-stream';
import { markOpaque } from '../system/xattr.js';
import { mkfifo, mknod } from '../system/mknod.js';

export class LayerError extends Error {}

/** The entry's path inside the layer, or an error when it would land outside it. */
function safeRelative(name: string): string {
  // A leading / is tar's way of saying "from the top"; a .. that climbs above the top is an attack.
  const cleaned = posix.normalize(name.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (cleaned === '..' || cleaned.startsWith('../')) throw new LayerError(`layer entry ${JSON.stringify(name)} escapes the layer`);
  return cleaned === '.' ? '' : cleaned;
}

/** Refuses to write through a symlink that the layer itself placed on the path. */
async function checkParents(root: string, rel: string): Promise<void> {
  const parts = rel.split('/').slice(0, -1);
  let cur = root;
  for (const part of parts) {
    cur = join(cur, part);
    const st = await lstat(cur).catch(() => undefined);
    if (!st) {
      await mkdir(cur, { mode: 0o755 });
      continue;
    }
    if (st.isSymbolicLink()) throw new LayerError(`layer entry ${rel} goes through the symlink ${cur.slice(root.length + 1)}`);
    if (!st.isDirectory()) throw new LayerError(`layer entry ${rel} is below the non-directory ${cur.slice(root.length + 1)}`);
  }
}

/**
 * Unpacks a layer tar (gzip or plain) into `root` in overlay format: `.wh.name` becomes a 0:0
 * character device and `.wh..wh..opq` marks its directory opaque, so `root` can be a lower layer.
 */
export async function extractLayer(source: NodeJS.ReadableStream, root: string, opts: { gzip: boolean; whiteouts?: boolean }): Promise<void> {
  await mkdir(root, { recursive: true });
  const dirTimes: [string, Date][] = [];
  const ex = tarExtract();
  const fail = (err: Error): void => void ex.destroy(err);
  source.on('error', fail);
  if (opts.gzip) {
    const gunzip = createGunzip();
    gunzip.on('error', fail);
    source.pipe(gunzip).pipe(ex as unknown as NodeJS.WritableStream);
  } else source.pipe(ex as unknown as NodeJS.WritableStream);
  for await (const entry of ex) await writeEntry(root, entry.header, entry, dirTimes, opts.whiteouts ?? true);
  // Directory times last: writing their children changed them.
  for (const [path, mtime] of dirTimes.reverse()) await utimes(path, mtime, mtime).catch(() => undefined);
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream);
}

async function writeFileFrom(path: string, body: AsyncIterable<unknown>, mode: number): Promise<void> {
  const fh = await open(path, 'w', mode);
  try {
    for await (const chunk of body) await fh.write(chunk as Buffer);
  } finally {
    await fh.close();
  }
}

async function writeEntry(root: string, h: Header, body: AsyncIterable<unknown>, dirTimes: [string, Date][], whiteouts: boolean): Promise<void> {
  const rel = safeRelative(h.name);
  if (rel === '') return drain(body);
  await checkParents(root, rel);
  const abs = join(root, rel);
  const base = posix.basename(rel);
  const mode = h.mode ?? 0o644;
  if (whiteouts && base === '.wh..wh..opq') {
    await drain(body);
    return markOpaque(dirname(abs));
  }
  if (whiteouts && base.startsWith('.wh.')) {
    await drain(body);
    const target = join(dirname(abs), base.slice(4));
    await rm(target, { recursive: true, force: true });
    return mknod(target, 'c', 0, 0, 0);
  }
  const existing = await lstat(abs).catch(() => undefined);
  if (existing && !(existing.isDirectory() && h.type === 'directory')) await rm(abs, { recursive: true, force: true });
  switch (h.type) {
    case 'directory':
      if (!existing) await mkdir(abs, { mode });
      await chmod(abs, mode);
      dirTimes.push([abs, h.mtime]);
      break;
    case 'file':
    case 'contiguous-file':
      await writeFileFrom(abs, body, mode);
      await chmod(abs, mode);
      break;
    case 'symlink':
      await symlink(h.linkname, abs);
      break;
    case 'link': {
      const target = join(root, safeRelative(h.linkname));
      await link(target, abs);
      break;
    }
    case 'character-device':
    case 'block-device':
      await mknod(abs, h.type === 'character-device' ? 'c' : 'b', h.devmajor, h.devminor, mode);
      break;
    case 'fifo':
      await mkfifo(abs, mode);
      break;
    default:
      throw new LayerError(`layer entry ${h.name} has unsupported type ${String(h.type)}`);
  }
  await drain(body);
  if (h.type === 'link') return;
  await lchown(abs, h.uid, h.gid);
  if (h.type === 'symlink') await lutimes(abs, h.mtime, h.mtime);
  else if (h.type !== 'directory') await utimes(abs, h.mtime, h.mtime);
}
