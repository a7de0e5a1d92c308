import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormatsModule from 'ajv-formats';
import { repoRoot } from './helpers.js';

/** The SPDX 2.3 schema and the specification's example, from ../shared (or DOCKYARD_SPDX_DIR); never copied in. */
export function spdxCorpus(): string {
  const dir = process.env.DOCKYARD_SPDX_DIR ?? join(repoRoot, '..', 'shared', 'conformance', 'spdx');
  if (!existsSync(join(dir, 'spdx-2.3-schema.json'))) throw new Error(`SPDX schema missing at ${dir}: clone the repo beside ../shared or set DOCKYARD_SPDX_DIR`);
  return dir;
}

// ajv-formats is CommonJS: its default export arrives as the module object under NodeNext.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv2019) => void;

/** The official SPDX 2.3 JSON schema compiled by ajv's draft 2019-09 validator: errors as text, empty when valid. */
export function spdxValidator(): (doc: unknown) => string[] {
  const ajv = new Ajv2019({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(join(spdxCorpus(), 'spdx-2.3-schema.json'), 'utf8')) as object);
  return (doc) => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`));
}
