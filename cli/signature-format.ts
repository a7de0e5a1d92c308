import type { SignatureFormat } from '../oci/signing/image-signatures.js';
import { UsageError } from './errors.js';

/** `--signature-format legacy|bundle|both` (default both): the formats it names. */
export function parseSignatureFormat(value: string | undefined): SignatureFormat[] {
  switch (value ?? 'both') {
    case 'legacy':
      return ['legacy'];
    case 'bundle':
      return ['bundle'];
    case 'both':
      return ['legacy', 'bundle'];
    default:
      throw new UsageError(`invalid --signature-format ${JSON.stringify(value)}: use legacy, bundle or both`);
  }
}
