/** OS/architecture/variant triples as buildx writes them: `linux/amd64`, `linux/arm/v7`. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const archAliases: Record<string, string> = { x86_64: 'amd64', x86: '386', i386: '386', aarch64: 'arm64', armhf: 'arm', armel: 'arm' };

/** Applies containerd's normalisation, so that `linux/arm64/v8` and `linux/arm64` are one platform. */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  const architecture = archAliases[p.architecture.toLowerCase()] ?? p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() || undefined;
  if (variant && /^\d+$/.test(variant)) variant = 'v' + variant;
  if (architecture === 'arm64' && variant === 'v8') variant = undefined;
  if (architecture === 'amd64' && variant === 'v1') variant = undefined;
  if (architecture === 'arm' && variant === undefined) variant = 'v7';
  if (p.architecture.toLowerCase() === 'armel' && !p.variant) variant = 'v6';
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function hostPlatform(): Platform {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return normalizePlatform({ os: process.platform === 'win32' ? 'windows' : process.platform, architecture: arch[process.arch] ?? process.arch });
}

const platformPattern = /^[a-z0-9_]+(\/[a-z0-9_]+(\/[a-z0-9_]+)?)?$/i;

/** Parses `os/arch[/variant]`, `arch` alone (Linux assumed) or `local`. */
export function parsePlatform(text: string): Platform {
  const s = text.trim();
  if (s === 'local') return hostPlatform();
  if (!platformPattern.test(s)) throw new Error(`invalid platform ${JSON.stringify(text)}: expected os/arch[/variant], e.g. linux/amd64 or linux/arm/v7`);
  const parts = s.split('/');
  if (parts.length === 1) return normalizePlatform({ os: 'linux', architecture: parts[0]! });
  return normalizePlatform({ os: parts[0]!, architecture: parts[1]!, variant: parts[2] });
}

/** Parses buildx's comma-separated `--platform` list, dropping duplicates. */
export function parsePlatformList(text: string): Platform[] {
  const seen = new Map<string, Platform>();
  for (const item of text.split(',')) {
    if (item.trim() === '') continue;
    const p = parsePlatform(item);
    seen.set(formatPlatform(p), p);
  }
  return [...seen.values()];
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

export function samePlatform(a: Platform, b: Platform): boolean {
  return formatPlatform(normalizePlatform(a)) === formatPlatform(normalizePlatform(b));
}
