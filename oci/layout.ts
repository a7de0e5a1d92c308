import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Digest } from './digest.js';
import { REF_NAME_ANNOTATION, type Descriptor, type ImageIndex } from './manifest.js';

/** Reads an OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/...`). */
export class OciLayout {
  constructor(readonly dir: string) {}

  static isLayout(dir: string): boolean {
    return existsSync(join(dir, 'oci-layout')) && existsSync(join(dir, 'index.json'));
  }

  blobPath(digest: Digest): string {
    return join(this.dir, 'blobs', 'sha256', digest.slice(7));
  }

  readJson<T>(digest: Digest): T {
    return JSON.parse(readFileSync(this.blobPath(digest), 'utf8')) as T;
  }

  index(): ImageIndex {
    return JSON.parse(readFileSync(join(this.dir, 'index.json'), 'utf8')) as ImageIndex;
  }

  /** The top descriptor for a tag (`ref.name` annotation), a digest, or the only one when neither is given. */
  find(selector?: { tag?: string; digest?: string }): Descriptor {
    const manifests = this.index().manifests;
    if (selector?.digest) {
      const d = manifests.find((m) => m.digest === selector.digest);
      if (d) return d;
      if (existsSync(this.blobPath(selector.digest as Digest))) {
        throw new Error(`OCI layout ${this.dir}: ${selector.digest} is not listed in index.json`);
      }
      throw new Error(`OCI layout ${this.dir} has no manifest ${selector.digest}`);
    }
    if (selector?.tag) {
      const d = manifests.find((m) => m.annotations?.[REF_NAME_ANNOTATION] === selector.tag);
      if (!d) throw new Error(`OCI layout ${this.dir} has no image tagged ${selector.tag}`);
      return d;
    }
    if (manifests.length !== 1) throw new Error(`OCI layout ${this.dir} holds ${manifests.length} images: name one with :TAG or @DIGEST`);
    return manifests[0]!;
  }
}
