import { ExpectedError } from '../../oci/expected-error.js';
import type { ProvenanceMode } from './provenance.js';

/** `--provenance` and `--sbom`, as the build was asked for them. */
export interface AttestOptions {
  provenance?: { mode: ProvenanceMode; builderId?: string };
  sbom: boolean;
}

export class AttestOptionError extends ExpectedError {}

const BOOLEANS: Record<string, boolean> = { true: true, '1': true, false: false, '0': false };

/** buildx's `--provenance` value: `true`/`false`, or CSV `mode=min|max[,builder-id=URI][,version=v1][,disabled=true]`. Undefined: off. */
export function parseProvenance(text: string): AttestOptions['provenance'] {
  if (text.toLowerCase() in BOOLEANS) return BOOLEANS[text.toLowerCase()] ? { mode: 'min' } : undefined;
  let mode: ProvenanceMode = 'min';
  let builderId: string | undefined;
  let disabled = false;
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const [key, value] = eq < 0 ? [part, ''] : [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
    if (key === 'mode' && (value === 'min' || value === 'max')) mode = value;
    else if (key === 'builder-id' && value !== '') builderId = value;
    else if (key === 'disabled' && value.toLowerCase() in BOOLEANS) disabled = BOOLEANS[value.toLowerCase()]!;
    else if (key === 'version' && value !== 'v1') throw new AttestOptionError(`invalid --provenance version=${value}: Dockyard writes SLSA provenance v1 only`);
    else if (key === 'version') continue;
    else if (key === 'mode') throw new AttestOptionError(`invalid --provenance mode=${value}: use min or max`);
    else throw new AttestOptionError(`invalid --provenance ${JSON.stringify(part)}: use true, false, or mode=min|max[,builder-id=URI]`);
  }
  return disabled ? undefined : { mode, ...(builderId !== undefined ? { builderId } : {}) };
}

/** buildx's `--sbom` value: `true`/`false` (or `disabled=true|false`). */
export function parseSbom(text: string): boolean {
  const v = text.toLowerCase();
  if (v in BOOLEANS) return BOOLEANS[v]!;
  const m = /^disabled=(.*)$/.exec(v);
  if (m && m[1]! in BOOLEANS) return !BOOLEANS[m[1]!];
  throw new AttestOptionError(`invalid --sbom ${JSON.stringify(text)}: use true or false (Dockyard's own scanner reads the image's package databases; generator= is not supported)`);
}
