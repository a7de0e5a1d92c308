import { create, inspect } from '../coordinator/registry/imagetools.js';
import { Registries, registrySettings } from '../coordinator/registry/registry-images.js';
import { parseCommandArgs, UsageError } from './errors.js';
import { attestationsJson, findAttestations } from '../coordinator/attest/inspect-attestations.js';
import type { Digest } from '../oci/digest.js';

export const imagetoolsHelp = `Usage: dockyard imagetools COMMAND

Commands:
  inspect [--raw] [--format json] REF     Show a manifest or index, with the platforms it holds and the
                                          attestations (provenance, SBOM) referring to each; with
                                          --format json, each platform's provenance and SBOM in full
  create -t TAG [-t TAG...] SRC [SRC...]  Tag an image again, or combine per-platform images into one
                                          index, within one registry and without downloading layers
`;

const registries = (): Registries => new Registries({ insecure: registrySettings().insecure });

export async function imagetoolsCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'inspect') {
    const { values, positionals } = parseCommandArgs('imagetools', { args: rest, allowPositionals: true, strict: true, options: { raw: { type: 'boolean' }, format: { type: 'string' } } });
    if (positionals.length !== 1) throw new UsageError('"dockyard imagetools inspect" requires exactly 1 argument (the image reference)');
    if (values.format !== undefined && values.format !== 'json') throw new UsageError(`invalid --format ${JSON.stringify(values.format)}: use json`);
    const regs = registries();
    const r = await inspect(regs, positionals[0]!);
    if (values.raw) {
      out.write(r.fetched.bytes.toString() + '\n');
      return 0;
    }
    const { domain, path } = r.fetched.ref;
    const images: { platform: string; digest: Digest }[] = r.config
      ? [{ platform: [r.config.os, r.config.architecture, r.config.variant].filter(Boolean).join('/'), digest: r.fetched.digest }]
      : r.manifests.map((m) => ({ platform: m.platform ?? 'unknown', digest: m.descriptor.digest }));
    const attested = await findAttestations(regs, domain, path, images);
    if (values.format === 'json') {
      const attestations = await attestationsJson(regs, domain, path, attested);
      out.write(JSON.stringify({ name: r.name, digest: r.fetched.digest, mediaType: r.fetched.mediaType, manifest: JSON.parse(r.fetched.bytes.toString()), ...(r.config ? { image: r.config } : {}), ...attestations }, null, 2) + '\n');
    } else {
      const listed = (digest: Digest): string[] =>
        (attested.find((a) => a.digest === digest)?.attestations ?? []).map((a, i) => `${i === 0 ? 'Attestations:' : '             '} ${a.descriptor.digest} ${a.predicateType}${a.signed ? ' (signed)' : ''}`);
      const lines = [`Name:      ${r.name}`, `MediaType: ${r.fetched.mediaType}`, `Digest:    ${r.fetched.digest}`];
      if (r.manifests.length) {
        lines.push('', 'Manifests:');
        for (const m of r.manifests) lines.push(`  Name:      ${domain}/${path}@${m.descriptor.digest}`, `  MediaType: ${m.descriptor.mediaType}`, `  Platform:  ${m.platform ?? 'unknown'}`, ...listed(m.descriptor.digest).map((l) => `  ${l}`), '');
      } else if (r.config) lines.push(`Platform:  ${images[0]!.platform}`, ...listed(r.fetched.digest));
      out.write(lines.join('\n').trimEnd() + '\n');
    }
    return 0;
  }
  if (sub === 'create') {
    const { values, positionals } = parseCommandArgs('imagetools', { args: rest, allowPositionals: true, strict: true, options: { tag: { type: 'string', short: 't', multiple: true } } });
    if (positionals.length === 0) throw new UsageError('"dockyard imagetools create" needs at least one source image');
    out.write((await create(registries(), positionals, values.tag ?? [])) + '\n');
    return 0;
  }
  if (sub === undefined || sub === '--help' || sub === '-h') return out.write(imagetoolsHelp), 0;
  throw new UsageError(`unknown imagetools command ${JSON.stringify(sub)}. See 'dockyard imagetools --help'`);
}
