/** Checks and normal forms for image-config values that Docker validates. */

import { isIP } from 'node:net';

export interface ExposedPortSpec {
  /** `port/proto` keys of the image config. */
  ports: string[];
  /** An IP or host port was given: accepted (only the container port is exposed), but worth a warning. */
  hostMapping: boolean;
}

/**
 * EXPOSE `80`, `80/tcp`, `53/udp`, `8000-8002`, and, as Docker still accepts, `[ip:]hostPort:containerPort`,
 * into `port/proto` keys.
 */
export function exposedPorts(spec: string): ExposedPortSpec {
  const parts = spec.split(':');
  const container = parts.at(-1)!;
  const hostPort = parts.length >= 2 ? parts.at(-2)! : '';
  let ip = parts.length >= 3 ? parts.slice(0, -2).join(':') : '';
  const slash = container.indexOf('/');
  const portText = slash < 0 ? container : container.slice(0, slash);
  const proto = slash < 0 ? 'tcp' : container.slice(slash + 1).toLowerCase();
  if (portText === '') throw new Error(`invalid port ${JSON.stringify(spec)}: no port specified`);
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new Error(`invalid port ${JSON.stringify(spec)}: invalid protocol ${JSON.stringify(container.slice(slash + 1))} (use tcp, udp or sctp)`);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip !== '' && isIP(ip) === 0) throw new Error(`invalid port ${JSON.stringify(spec)}: invalid IP address ${JSON.stringify(ip)}`);
  const [start, end] = portRange(portText, 'containerPort', spec);
  if (hostPort !== '') {
    const [hostStart, hostEnd] = portRange(hostPort, 'hostPort', spec);
    // A host range may go with a single container port (ports to choose from), not with another range.
    if (end - start !== hostEnd - hostStart && end !== start) throw new Error(`invalid port ${JSON.stringify(spec)}: the container and host port ranges differ in size`);
  }
  const ports: string[] = [];
  for (let p = start; p <= end; p++) ports.push(`${p}/${proto}`);
  return { ports, hostMapping: ip !== '' || hostPort !== '' };
}

function portRange(text: string, what: string, spec: string): [number, number] {
  const m = /^([+-]?\d+)(?:-([+-]?\d+))?$/.exec(text);
  const start = m ? Number(m[1]) : NaN;
  const end = m?.[2] !== undefined ? Number(m[2]) : start;
  const valid = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 65535;
  if (!valid(start) || !valid(end) || end < start) throw new Error(`invalid port ${JSON.stringify(spec)}: bad ${what} ${JSON.stringify(text)}, expected PORT[-PORT] within 0-65535, e.g. 8080/tcp`);
  return [start, end];
}

/** Linux's signal map as Docker's signal package has it: names without `SIG`, real-time signals by offset. */
const signals = new Set([
  'ABRT', 'ALRM', 'BUS', 'CHLD', 'CLD', 'CONT', 'FPE', 'HUP', 'ILL', 'INT', 'IO', 'IOT', 'KILL', 'PIPE', 'POLL', 'PROF', 'PWR',
  'QUIT', 'SEGV', 'STKFLT', 'STOP', 'SYS', 'TERM', 'TRAP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'USR1', 'USR2', 'VTALRM', 'WINCH', 'XCPU', 'XFSZ',
  'RTMIN', 'RTMAX',
  ...Array.from({ length: 15 }, (_, i) => `RTMIN+${i + 1}`),
  ...Array.from({ length: 14 }, (_, i) => `RTMAX-${i + 1}`),
]);

const MAX_INT64 = 2n ** 63n - 1n;

/** STOPSIGNAL takes a positive number or a name of the signal map, with or without `SIG`, in any case. */
export function checkStopSignal(signal: string): string {
  if (/^\+?\d+$/.test(signal)) {
    const n = BigInt(signal);
    if (n > 0n && n <= MAX_INT64) return signal;
  } else if (signals.has(signal.toUpperCase().replace(/^SIG/, ''))) return signal;
  throw new Error(`invalid signal: ${signal} (use a name such as SIGTERM or a positive number)`);
}
