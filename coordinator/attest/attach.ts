import { parseReference } from '../../oci/reference.js';
import { attachReferrer } from '../../oci/registry/referrers.js';
import type { Registries } from '../registry/registry-images.js';
import { attestationArtifact, type ImageAttestations } from './attestations.js';

/**
 * Attaches each platform's attestations to its manifest, in every repository the image was pushed to,
 * as OCI 1.1 referrers (the `sha256-<hex>` fallback index on registries without the referrers API).
 * The image index is left as it is: it lists only the platforms' images.
 */
export async function attachAttestations(registries: Registries, names: readonly string[], attested: readonly ImageAttestations[]): Promise<number> {
  const repos = new Map<string, { domain: string; path: string }>();
  for (const n of names) {
    const r = parseReference(n);
    repos.set(`${r.domain}/${r.path}`, { domain: r.domain, path: r.path });
  }
  let attached = 0;
  for (const { domain, path } of repos.values()) {
    const client = registries.client(domain);
    for (const { image, attestations, signer } of attested) {
      for (const a of attestations) {
        await attachReferrer(client, path, image.manifest, await attestationArtifact(a, signer));
        attached++;
      }
    }
  }
  return attached;
}
