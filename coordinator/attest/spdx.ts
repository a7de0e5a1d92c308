import type { ImageScan } from './image-scan.js';
import type { FoundPackage } from './package-databases.js';

export const SPDX_PREDICATE_TYPE = 'https://spdx.dev/Document';

/** The subset of an SPDX 2.3 JSON document that Dockyard writes. */
export interface SpdxDocument {
  spdxVersion: 'SPDX-2.3';
  dataLicense: 'CC0-1.0';
  SPDXID: 'SPDXRef-DOCUMENT';
  name: string;
  documentNamespace: string;
  creationInfo: { created: string; creators: string[] };
  packages: SpdxPackage[];
  files?: SpdxFile[];
  relationships: { spdxElementId: string; relatedSpdxElement: string; relationshipType: string }[];
}

interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  downloadLocation: string;
  filesAnalyzed: false;
  primaryPackagePurpose?: string;
  supplier?: string;
  homepage?: string;
  summary?: string;
  sourceInfo?: string;
  licenseConcluded?: string;
  licenseDeclared?: string;
  licenseComments?: string;
  copyrightText?: string;
  checksums?: { algorithm: string; checksumValue: string }[];
  externalRefs?: { referenceCategory: string; referenceType: string; referenceLocator: string }[];
}

interface SpdxFile {
  SPDXID: string;
  fileName: string;
  checksums: { algorithm: string; checksumValue: string }[];
  licenseConcluded: string;
  copyrightText: string;
}

export interface SbomSubject {
  /** The image's name (the first tag), or its manifest digest when it has none. */
  name: string;
  /** The platform manifest's digest: the document's namespace is derived from it. */
  digest: string;
  platform: string;
  /** ISO time. */
  created: string;
  /** `dockyard-<version>`. */
  tool: string;
}

const enc = (s: string): string => encodeURIComponent(s);

/** The package URL (purl) of a package, so that scanners can match it against advisories. */
export function packageUrl(p: FoundPackage, os: ImageScan['os']): string {
  const distro = os ? `&distro=${enc(os.versionId ? `${os.id}-${os.versionId}` : os.id)}` : '';
  switch (p.ecosystem) {
    case 'deb':
      return `pkg:deb/${enc(os?.id ?? 'debian')}/${enc(p.name)}@${enc(p.version)}?arch=${enc(p.arch ?? 'all')}${distro}`;
    case 'apk':
      return `pkg:apk/${enc(os?.id ?? 'alpine')}/${enc(p.name)}@${enc(p.version)}?arch=${enc(p.arch ?? 'noarch')}${distro}`;
    case 'npm': {
      const [scope, name] = p.name.startsWith('@') ? p.name.split('/', 2) : [undefined, p.name];
      return `pkg:npm/${scope ? `${enc(scope)}/` : ''}${enc(name!)}@${enc(p.version)}`;
    }
    case 'pypi':
      // PyPI names compare case-insensitively with runs of -_. folded to one dash (PEP 503).
      return `pkg:pypi/${enc(p.name.toLowerCase().replace(/[-_.]+/g, '-'))}@${enc(p.version)}`;
  }
}

/** Only a plain SPDX expression (ids joined by AND/OR/WITH) is declared as one; anything else is a comment. */
function license(raw: string | undefined): Pick<SpdxPackage, 'licenseDeclared' | 'licenseComments'> {
  if (raw && /^\(?[A-Za-z0-9.+-]+(\s+(AND|OR|WITH)\s+\(?[A-Za-z0-9.+-]+\)?)*\)?$/.test(raw)) return { licenseDeclared: raw };
  return { licenseDeclared: 'NOASSERTION', ...(raw ? { licenseComments: raw } : {}) };
}

/** `Name <mail>` (Debian, apk) to SPDX's `Person: Name (mail)`. */
function supplier(raw: string | undefined): string {
  if (!raw) return 'NOASSERTION';
  const m = /^(.*?)\s*<([^>]*)>\s*$/.exec(raw);
  return m ? `Person: ${m[1] || m[2]} (${m[2]})` : `Person: ${raw}`;
}

const DATABASES: Record<FoundPackage['ecosystem'], string> = { deb: 'dpkg database', apk: 'apk database', npm: 'npm package data', pypi: 'Python package metadata' };

/**
 * An SPDX 2.3 document of one platform's image: the image as the described package, CONTAINS each
 * package found; when no package database was found, CONTAINS every regular file with its checksums.
 */
export function spdxDocument(scan: ImageScan, subject: SbomSubject): SpdxDocument {
  const image: SpdxPackage = {
    SPDXID: 'SPDXRef-Image',
    name: subject.name,
    versionInfo: subject.digest,
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    primaryPackagePurpose: 'CONTAINER',
    summary: `image for ${subject.platform}`,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: 'NOASSERTION',
    copyrightText: 'NOASSERTION',
    checksums: [{ algorithm: 'SHA256', checksumValue: subject.digest.replace(/^sha256:/, '') }],
  };
  const relationships: SpdxDocument['relationships'] = [{ spdxElementId: 'SPDXRef-DOCUMENT', relatedSpdxElement: 'SPDXRef-Image', relationshipType: 'DESCRIBES' }];
  const packages = scan.packages.map((p, i): SpdxPackage => ({
    SPDXID: `SPDXRef-Package-${p.ecosystem}-${i + 1}`,
    name: p.name,
    versionInfo: p.version,
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    supplier: supplier(p.supplier),
    ...(p.homepage ? { homepage: p.homepage } : {}),
    ...(p.summary ? { summary: p.summary } : {}),
    sourceInfo: `acquired package info from the ${DATABASES[p.ecosystem]}: /${p.foundIn}`,
    licenseConcluded: 'NOASSERTION',
    ...license(p.license),
    copyrightText: 'NOASSERTION',
    externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: packageUrl(p, scan.os) }],
  }));
  for (const p of packages) relationships.push({ spdxElementId: 'SPDXRef-Image', relatedSpdxElement: p.SPDXID, relationshipType: 'CONTAINS' });
  const doc: SpdxDocument = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${subject.name} (${subject.platform})`,
    documentNamespace: `https://spdx.org/spdxdocs/dockyard/${subject.digest.replace(/^sha256:/, '')}`,
    // SPDX wants seconds, without fractions.
    creationInfo: { created: subject.created.replace(/\.\d+Z$/, 'Z'), creators: [`Tool: ${subject.tool}`] },
    packages: [image, ...packages],
    relationships,
  };
  if (packages.length === 0) {
    doc.files = scan.files.map((f, i) => ({
      SPDXID: `SPDXRef-File-${i + 1}`,
      fileName: `./${f.path}`,
      checksums: [
        { algorithm: 'SHA1', checksumValue: f.sha1 },
        { algorithm: 'SHA256', checksumValue: f.sha256 },
      ],
      licenseConcluded: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
    }));
    for (const f of doc.files) relationships.push({ spdxElementId: 'SPDXRef-Image', relatedSpdxElement: f.SPDXID, relationshipType: 'CONTAINS' });
  }
  return doc;
}
