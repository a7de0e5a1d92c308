import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Digest } from '../../oci/digest.js';
import type { ImageConfig } from '../../oci/image.js';
import { OciLayout } from '../../oci/layout.js';
import { MediaType, type Descriptor, type ImageIndex, type ImageManifest } from '../../oci/manifest.js';
import { formatPlatform, normalizePlatform, type Platform } from '../../oci/platform.js';
import { ExpectedError } from '../../oci/expected-error.js';

/** `--build-context NAME=VALUE`, as buildx takes it. */
export type NamedContext =
  | { name: string; type: 'local'; dir: string }
  | { name: string; type: 'oci-layout'; dir: string; tag?: string; digest?: string }
  | { name: string; type: 'docker-image'; ref: string };

export class NamedContextError extends ExpectedError {}

export function parseBuildContextFlag(text: string): NamedContext {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new NamedContextError(`invalid --build-context ${JSON.stringify(text)}: expected NAME=PATH, NAME=oci-layout://DIR[:TAG|@DIGEST] or NAME=docker-image://REF`);
  const name = text.slice(0, eq);
  const value = text.slice(eq + 1);
  if (value.startsWith('docker-image://')) return { name, type: 'docker-image', ref: value.slice('docker-image://'.length) };
  if (value.startsWith('oci-layout://')) {
    let rest = value.slice('oci-layout://'.length);
    let digest: string | undefined;
    let tag: string | undefined;
    const at = rest.lastIndexOf('@');
    if (at > 0) [rest, digest] = [rest.slice(0, at), rest.slice(at + 1)];
    const colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/')) [rest, tag] = [rest.slice(0, colon), rest.slice(colon + 1)];
    const dir = resolve(rest);
    if (!OciLayout.isLayout(dir)) throw new NamedContextError(`--build-context ${name}: ${dir} is not an OCI image layout (no oci-layout and index.json)`);
    return { name, type: 'oci-layout', dir, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw new NamedContextError(`--build-context ${name}: unsupported source ${value}`);
  const dir = resolve(value);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new NamedContextError(`--build-context ${name}: directory ${dir} does not exist`);
  return { name, type: 'local', dir };
}

export interface LayoutImage {
  /** The platform-specific manifest. */
  manifestDigest: Digest;
  manifest: ImageManifest;
  config: ImageConfig;
}

const platformOf = (d: Descriptor): string => (d.platform ? formatPlatform(normalizePlatform(d.platform)) : '');

/** Picks the manifest for `platform` in an OCI layout (through an index when there is one) and reads its config. */
export function resolveLayoutImage(ctx: Extract<NamedContext, { type: 'oci-layout' }>, platform: Platform): LayoutImage {
  const layout = new OciLayout(ctx.dir);
  let desc = layout.find({ ...(ctx.tag ? { tag: ctx.tag } : {}), ...(ctx.digest ? { digest: ctx.digest } : {}) });
  if (desc.mediaType === MediaType.ociIndex || desc.mediaType === MediaType.dockerManifestList) {
    const index = layout.readJson<ImageIndex>(desc.digest);
    const want = formatPlatform(normalizePlatform(platform));
    const match = index.manifests.find((m) => platformOf(m) === want);
    if (!match) {
      throw new NamedContextError(`--build-context ${ctx.name}: no image for ${want} in ${ctx.dir} (it has ${index.manifests.map(platformOf).join(', ') || 'none'})`);
    }
    desc = match;
  }
  const manifest = layout.readJson<ImageManifest>(desc.digest);
  const config = layout.readJson<ImageConfig>(manifest.config.digest);
  return { manifestDigest: desc.digest, manifest, config };
}
