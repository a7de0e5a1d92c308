/** Go's time.ParseDuration syntax (`1m30s`, `500ms`, `1.5h`), which HEALTHCHECK flags use. Returns nanoseconds. */
const units: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

export function parseGoDuration(text: string): number {
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/u.exec(text);
  if (text === '0') return 0;
  if (!m) throw new Error(`time: invalid duration ${JSON.stringify(text)}`);
  let total = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gu)) {
    total += Number(part[1]) * units[part[2]!]!;
  }
  return Math.round(m[1] === '-' ? -total : total);
}

/** Nanoseconds as Go's time.Duration prints them (`1m30s`, `500ms`, `1.5µs`, `0s`), as image history shows them. */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let u = Math.abs(ns);
  if (u < 1e3) return `${sign}${u}ns`;
  if (u < 1e6) return `${sign}${fraction(u, 3)}µs`;
  if (u < 1e9) return `${sign}${fraction(u, 6)}ms`;
  const hours = Math.floor(u / 3600e9);
  u -= hours * 3600e9;
  const minutes = Math.floor(u / 60e9);
  u -= minutes * 60e9;
  const hm = hours > 0 ? `${hours}h${minutes}m` : minutes > 0 ? `${minutes}m` : '';
  return `${sign}${hm}${fraction(u, 9)}s`;
}

/** `v / 10^digits` with the fraction's trailing zeros (and a bare point) left out. */
function fraction(v: number, digits: number): string {
  const unit = 10 ** digits;
  const whole = Math.floor(v / unit);
  const rest = v - whole * unit;
  return rest === 0 ? String(whole) : `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
}
