/**
 * An HTTP proxy in front of a registry that misbehaves at random, run as its own process by the tests:
 * `node faulty-proxy.js TARGET_HOST:PORT SEED FAULT_RATE`. Per request it may drop the connection
 * (before answering or half-way through the body), delay, or answer 500 or 429. `GET /__stats`
 * reports requests, faults and body bytes sent to clients, `GET /__log` every request line. It prints its port when ready.
 */
import { createServer, request } from 'node:http';

const [target, seedText, rateText] = process.argv.slice(2) as [string, string, string];
const [targetHost, targetPort] = target.split(':') as [string, string];
const rate = Number(rateText);
let seed = Number(seedText) >>> 0;
const random = (): number => {
  // xorshift32: the same seed gives the same faults.
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const stats = { requests: 0, faults: 0, bytesToClient: 0 };
/** `METHOD PATH` of every request, for tests that count what a client fetched (`GET /__log`). */
const log: string[] = [];

const server = createServer((req, res) => {
  if (req.url === '/__stats') return res.end(JSON.stringify(stats));
  if (req.url === '/__log') return res.end(JSON.stringify(log));
  stats.requests++;
  log.push(`${req.method} ${req.url}`);
  const roll = random();
  const fault = roll < rate;
  if (fault) stats.faults++;
  if (fault && roll < rate * 0.25) return req.socket.destroy();
  if (fault && roll < rate * 0.5) return res.writeHead(500).end('{"errors":[{"code":"UNKNOWN","message":"injected"}]}');
  if (fault && roll < rate * 0.65) return res.writeHead(429, { 'retry-after': '0' }).end();
  const cutAfter = fault ? 1 + Math.floor(random() * 2048) : Infinity;
  const delay = fault ? Math.floor(random() * 50) : 0;
  setTimeout(() => {
    const upstream = request({ host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      let sent = 0;
      up.on('data', (chunk: Buffer) => {
        if (sent + chunk.length > cutAfter) {
          // Half a body, then the connection breaks.
          res.write(chunk.subarray(0, Math.max(0, cutAfter - sent)));
          stats.bytesToClient += Math.max(0, cutAfter - sent);
          up.destroy();
          return req.socket.destroy();
        }
        sent += chunk.length;
        stats.bytesToClient += chunk.length;
        res.write(chunk);
      });
      up.on('end', () => res.end());
    });
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  }, delay);
});
server.listen(0, '127.0.0.1', () => console.log((server.address() as { port: number }).port));
