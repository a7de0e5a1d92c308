import type { Digest } from '../digest.js';
import type { RegistryClient } from './client.js';
import { RegistryError } from './errors.js';

/** Blobs up to this size go in one PUT; larger ones in PATCH chunks of this size. */
const MONOLITHIC_MAX = 16 << 20;
const CHUNK = 16 << 20;

function withDigest(location: string, base: string, digest: Digest): string {
  const url = new URL(location, base);
  url.searchParams.set('digest', digest);
  return url.pathname + url.search;
}

/** The path of an upload session from the registry's `Location` header. */
export function uploadPath(location: string | null, base: string): string {
  if (!location) throw new RegistryError('the registry started an upload without a Location');
  const url = new URL(location, base);
  return url.pathname + url.search;
}

/** Up to `size` bytes of `source`, in pieces of at most `chunk` bytes each. */
async function* rechunk(source: AsyncIterable<Buffer>, chunk: number): AsyncIterable<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  for await (const piece of source) {
    let rest = piece;
    while (have + rest.length >= chunk) {
      const take = chunk - have;
      parts.push(rest.subarray(0, take));
      yield Buffer.concat(parts);
      parts = [];
      have = 0;
      rest = rest.subarray(take);
    }
    if (rest.length > 0) (parts.push(rest), (have += rest.length));
  }
  if (have > 0) yield Buffer.concat(parts);
}

/**
 * Uploads one blob into the session at `startLocation`: one PUT when small, PATCH chunks then a
 * closing PUT when large. The registry checks the digest when the upload closes.
 */
export async function uploadBlob(client: RegistryClient, repo: string, digest: Digest, size: number, body: AsyncIterable<Buffer>, startLocation: string): Promise<void> {
  const r = { repo, actions: ['pull', 'push'] as ('pull' | 'push')[] };
  if (size <= MONOLITHIC_MAX) {
    const parts: Buffer[] = [];
    for await (const piece of body) parts.push(piece);
    await client.request(withDigest(startLocation, client.base, digest), { ...r, method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.concat(parts) });
    return;
  }
  let location = startLocation;
  let offset = 0;
  for await (const buf of rechunk(body, CHUNK)) {
    const res = await client.request(uploadPath(location, client.base), {
      ...r,
      method: 'PATCH',
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + buf.length - 1}` },
      body: buf,
    });
    offset += buf.length;
    location = res.headers.get('location') ?? location;
  }
  await client.request(withDigest(location, client.base, digest), { ...r, method: 'PUT' });
}

/** Starts an upload session in `repo` and uploads the blob through it. */
export async function pushBlob(client: RegistryClient, repo: string, digest: Digest, size: number, body: AsyncIterable<Buffer>): Promise<void> {
  const start = await client.request(`/v2/${repo}/blobs/uploads/`, { repo, actions: ['pull', 'push'], method: 'POST' });
  await uploadBlob(client, repo, digest, size, body, uploadPath(start.headers.get('location'), client.base));
}
