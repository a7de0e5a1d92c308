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
