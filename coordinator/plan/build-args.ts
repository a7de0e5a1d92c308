import { formatPlatform, type Platform } from '../../oci/platform.js';

/** Proxy settings: usable in RUN without an ARG, and kept out of cache keys and history. */
export const PROXY_ARGS = new Set([
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
]);

export const SOURCE_DATE_EPOCH = 'SOURCE_DATE_EPOCH';

/** The automatic platform ARGs. In stages they still need an `ARG NAME` line to be visible, as in BuildKit. */
export function platformArgs(build: Platform, target: Platform, targetStage: string): Map<string, string> {
  return new Map([
    ['BUILDPLATFORM', formatPlatform(build)],
    ['BUILDOS', build.os],
    ['BUILDARCH', build.architecture],
    ['BUILDVARIANT', build.variant ?? ''],
    ['TARGETPLATFORM', formatPlatform(target)],
    ['TARGETOS', target.os],
    ['TARGETARCH', target.architecture],
    ['TARGETVARIANT', target.variant ?? ''],
    ['TARGETSTAGE', targetStage],
  ]);
}

/** Parses `--build-arg KEY=VALUE`; a bare `KEY` takes its value from the environment, as docker does. */
export function parseBuildArgs(items: string[], env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of items) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    if (key === '') throw new Error(`invalid --build-arg ${JSON.stringify(item)}: expected KEY=VALUE`);
    if (eq >= 0) out.set(key, item.slice(eq + 1));
    else if (env[key] !== undefined) out.set(key, env[key]!);
  }
  return out;
}
