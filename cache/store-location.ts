import { resolve } from 'node:path';
import type { ClientOptions } from '../oci/registry/client.js';
import { BlobError, type BlobStore } from './blob-store.js';
import { FsBlobStore } from './fs-blob-store.js';
import type { Lease } from './lease.js';
import { RegistryBlobStore } from './registry-blob-store.js';

/**
 * The blob store a user names (`--store DIR` or `--store registry://HOST/REPO`): a directory holds an
 * `FsBlobStore`, a registry URL a `RegistryBlobStore`.
 */
export function openBlobStore(location: string, opts: { lease?: Lease; client?: ClientOptions; scratchDir?: string } = {}): BlobStore {
  if (location.startsWith('registry://')) return new RegistryBlobStore(location, opts);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) throw new BlobError(`unsupported store ${JSON.stringify(location)}: use a directory or registry://HOST/REPOSITORY`);
  return new FsBlobStore(resolve(location), opts.lease);
}
