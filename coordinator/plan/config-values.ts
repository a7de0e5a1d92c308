/** Checks and normal forms for image-config values that Docker validates. */

/** EXPOSE `80`, `80/tcp`, `53/udp`, `8000-8002` into `port/proto` keys. */
export function exposedPorts(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/([a-zA-Z]+))?$/.exec(spec);
  if (!m) throw new Error(`invalid port ${JSON.stringify(spec)}: expected PORT[-PORT][/PROTOCOL], e.g. 8080/tcp`);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new Error(`invalid protocol ${JSON.stringify(m[3])} in EXPOSE ${spec} (use tcp, udp or sctp)`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start < 0 || end > 65535 || end < start) throw new Error(`invalid port range ${JSON.stringify(spec)}`);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}

const signals = new Set([
  'ABRT', 'ALRM', 'BUS', 'CHLD', 'CLD', 'CONT', 'FPE', 'HUP', 'ILL', 'INT', 'IO', 'IOT', 'KILL', 'PIPE', 'POLL', 'PROF', 'PWR',
  'QUIT', 'SEGV', 'STKFLT', 'STOP', 'SYS', 'TERM', 'TRAP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'USR1', 'USR2', 'VTALRM', 'WINCH', 'XCPU', 'XFSZ',
]);

/** STOPSIGNAL takes a signal name (`SIGTERM`, `TERM`), `SIGRTMIN+n`, or a number. */
export function checkStopSignal(signal: string): string {
  const upper = signal.toUpperCase();
  const name = upper.startsWith('SIG') ? upper.slice(3) : upper;
  if (/^\d+$/.test(signal) && Number(signal) > 0 && Number(signal) < 65) return signal;
  if (signals.has(name) || /^RTM(IN|AX)([+-]\d+)?$/.test(name)) return signal;
  throw new Error(`invalid signal: ${signal} (use a name such as SIGTERM or a number)`);
}
