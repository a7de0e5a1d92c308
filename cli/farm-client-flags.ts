import type { TlsFiles } from '../proto/transport.js';
import { UsageError } from './errors.js';

/** How `build --builder` and `queue` reach a coordinator: the same flags, help and checks for both. */
export const farmClientHelp = `      --builder HOST:PORT    Build farm coordinator; several, comma-separated, for failover (default: $DOCKYARD_BUILDER)
      --token-file F         The farm's shared token (default: $DOCKYARD_TOKEN)
      --tls-ca F             CA certificate of the coordinator (enables TLS)
      --tls-cert F           Client certificate (mTLS)
      --tls-key F            Client key (mTLS)
`;

export const farmClientOptions = {
  builder: { type: 'string' },
  'token-file': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
} as const;

export function tlsFiles(values: { 'tls-ca'?: string | undefined; 'tls-cert'?: string | undefined; 'tls-key'?: string | undefined }): TlsFiles {
  return {
    ...(values['tls-ca'] ? { ca: values['tls-ca'] } : {}),
    ...(values['tls-cert'] ? { cert: values['tls-cert'] } : {}),
    ...(values['tls-key'] ? { key: values['tls-key'] } : {}),
  };
}

/** Several coordinators of one farm, comma-separated: the client moves to the next if one dies. */
export function checkBuilder(builder: string): void {
  for (const address of builder.split(',')) {
    if (!/^(?:\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):\d{1,5}$/.test(address)) throw new UsageError(`invalid --builder ${JSON.stringify(builder)}: expected HOST:PORT[,HOST:PORT...]`);
  }
}
