import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher, Response } from 'undici';

// undici (for per-registry CAs) takes a while to load: only when a registry is actually contacted.
const undici = (): Promise<typeof import('undici')> => import('undici');
import { parseWwwAuthenticate, type Challenge } from './challenge.js';
import { credentialsFor, type Credentials } from './credentials.js';
import { RegistryError } from './errors.js';
import { tlsRoots } from '../tls-roots.js';

export interface ClientOptions {
  /** Hosts reached over plain HTTP besides loopback ones (Docker's insecure registries). */
  insecure?: string[];
  credentials?: (host: string) => Credentials | undefined;
  /** Attempts for connection errors, 5xx and 429 (Retry-After honoured). */
  attempts?: number;
  /** Where per-registry CA certificates live, as `<dir>/<host[:port]>/ca.crt` (Docker's certs.d). */
  certsDir?: string;
}

export interface RegistryRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** The repository the request is about, for the token scope and for messages. */
  repo: string;
  actions: ('pull' | 'push')[];
  /** Another repository to read from (cross-repository mount). */
  from?: string;
  /** Statuses that are answers, not failures (e.g. 404 for a blob HEAD). */
  accept?: number[];
}

const isLoopback = (host: string): boolean => /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host);

/** Docker Hub's name and where its API lives. */
function endpointHost(domain: string): string {
  return domain === 'docker.io' ? 'registry-1.docker.io' : domain;
}

interface Token {
  value: string;
  expires: number;
}

/**
 * An OCI distribution API client for one registry: plain HTTP only for loopback or listed insecure
 * hosts, Basic or Bearer auth from the registry's challenge (token GET flow, OAuth2 POST flow with an
 * identity token), tokens cached per scope, retries with backoff and jitter.
 */
export class RegistryClient {
  base: string;
  /** Loopback and insecure hosts: HTTPS when it answers (unverified, as Docker does), else HTTP. */
  private protocol?: Promise<void>;
  private readonly lenient: boolean;
  private readonly tokens = new Map<string, Token>();
  private basic?: string;
  private challenge?: Challenge;
  private credentialsLooked = false;
  private creds?: Credentials;
  /** For the registry's own HTTPS URLs: its certs.d CA, or no checks (lenient hosts). */
  private dispatcher?: Dispatcher;
  /** For every other URL (a token server, blob storage) and a registry without one: the user's extra CAs. */
  private elsewhere?: Dispatcher;
  private readonly ca?: string;

  constructor(
    readonly domain: string,
    private readonly opts: ClientOptions = {},
  ) {
    const host = endpointHost(domain);
    const plain = isLoopback(host) || (opts.insecure ?? []).includes(host);
    this.base = `https://${host}`;
    // A private CA for this registry, the way Docker finds one; with it, the certificate is checked.
    const ca = join(opts.certsDir ?? process.env.DOCKYARD_CERTS_DIR ?? '/etc/docker/certs.d', host, 'ca.crt');
    this.lenient = plain && !existsSync(ca);
    if (existsSync(ca)) this.ca = ca;
  }

  /** For lenient hosts, finds out once whether the registry speaks HTTPS or plain HTTP. */
  private ready(): Promise<void> {
    this.protocol ??= (async () => {
      const { Agent, fetch } = await undici();
      if (this.ca) this.dispatcher = new Agent({ connect: { ca: readFileSync(this.ca) } });
      else if (this.lenient) this.dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
      const roots = tlsRoots();
      if (roots) this.elsewhere = new Agent({ connect: { ca: roots } });
      if (!this.lenient) return;
      try {
        await fetch(`${this.base}/v2/`, { dispatcher: this.dispatcher!, signal: AbortSignal.timeout(5000) });
      } catch {
        this.base = this.base.replace(/^https:/, 'http:');
      }
    })();
    return this.protocol;
  }

  private credentials(): Credentials | undefined {
    if (!this.credentialsLooked) {
      this.creds = (this.opts.credentials ?? credentialsFor)(this.domain);
      this.credentialsLooked = true;
    }
    return this.creds;
  }

  private scopes(r: RegistryRequest): string[] {
    if (r.repo === '') return [];
    const s = [`repository:${r.repo}:${r.actions.join(',')}`];
    if (r.from && r.from !== r.repo) s.push(`repository:${r.from}:pull`);
    return s;
  }

  private async authorization(r: RegistryRequest): Promise<string | undefined> {
    if (!this.challenge) return undefined;
    if (this.challenge.scheme === 'basic') return this.basic;
    const key = this.scopes(r).join(' ');
    const cached = this.tokens.get(key);
    if (cached && cached.expires > Date.now()) return `Bearer ${cached.value}`;
    const token = await this.fetchToken(this.challenge, this.scopes(r), r.repo);
    this.tokens.set(key, token);
    return `Bearer ${token.value}`;
  }

  /** Gets a Bearer token from the challenge's realm: POST with an identity token, else GET (with Basic credentials if any). */
  private async fetchToken(c: Challenge, scopes: string[], repo: string): Promise<Token> {
    const realm = c.params.realm;
    if (!realm) throw new RegistryError(`${this.domain}: the registry asked for a Bearer token without a realm`);
    const creds = this.credentials();
    let res: Response;
    if (creds?.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, service: c.params.service ?? '', client_id: 'dockyard', scope: scopes.join(' ') });
      res = await this.send(realm, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    } else {
      const url = new URL(realm);
      if (c.params.service) url.searchParams.set('service', c.params.service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const headers: Record<string, string> = {};
      if (creds?.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
      res = await this.send(url.toString(), { headers });
    }
    if (res.status === 401 || res.status === 403) {
      throw new RegistryError(`${this.domain}/${repo}: the token server refused ${creds ? `the credentials for ${this.domain}` : `anonymous access (no credentials for ${this.domain} in ${'$DOCKER_CONFIG/config.json'}; run dockyard login ${this.domain})`}`, res.status);
    }
    if (!res.ok) throw new RegistryError(`${this.domain}/${repo}: the token server answered HTTP ${res.status}`, res.status);
    const body = (await res.json()) as { token?: string; access_token?: string; expires_in?: number };
    const value = body.token ?? body.access_token;
    if (!value) throw new RegistryError(`${this.domain}: the token server sent no token`);
    // Renew a little early; registries default to 60 s when they do not say.
    return { value, expires: Date.now() + Math.max(10, (body.expires_in ?? 60) - 10) * 1000 };
  }

  /** The registry's own TLS settings apply to its HTTPS URLs only, not to a token server or blob storage elsewhere. */
  private dispatcherFor(url: string): Dispatcher | undefined {
    const own = this.dispatcher && url.startsWith('https:') && new URL(url).host === new URL(this.base).host;
    return own ? this.dispatcher : this.elsewhere;
  }

  /** One HTTP exchange with retries for connection errors, 5xx and 429. */
  private async send(url: string, init: { method?: string; headers?: Record<string, string>; body?: Buffer | string }): Promise<Response> {
    const attempts = this.opts.attempts ?? 6;
    for (let attempt = 1; ; attempt++) {
      let res: Response | undefined;
      let error: Error | undefined;
      try {
        // Without settings of ours, Node's own fetch.
        const dispatcher = this.dispatcherFor(url);
        const init2 = { method: init.method ?? 'GET', headers: init.headers, body: init.body, redirect: 'follow' as const };
        res = dispatcher ? await (await undici()).fetch(url, { ...init2, dispatcher }) : ((await fetch(url, init2 as RequestInit)) as unknown as Response);
      } catch (err) {
        error = err as Error;
      }
      // A certificate that does not verify will not verify on the next try either.
      const certificate = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test((error as (Error & { cause?: { code?: string } }) | undefined)?.cause?.code ?? '');
      const retryable = (error !== undefined && !certificate) || (res !== undefined && (res.status === 429 || res.status >= 500));
      if (!retryable || attempt >= attempts) {
        if (error) {
          const cause = (error as Error & { cause?: Error & { code?: string } }).cause;
          const tls = cause?.code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(cause.code);
          throw new RegistryError(
            `${this.domain}: cannot reach ${new URL(url).host}: ${cause?.message ?? error.message}` +
              (tls ? ` (put the registry's CA certificate in ${join(this.opts.certsDir ?? process.env.DOCKYARD_CERTS_DIR ?? '/etc/docker/certs.d', new URL(url).host, 'ca.crt')})` : ''),
          );
        }
        return res!;
      }
      const after = Number(res?.headers.get('retry-after'));
      const backoff = Number.isFinite(after) && after > 0 ? after * 1000 : Math.min(8000, 100 * 2 ** attempt) * (0.5 + Math.random());
      await res?.body?.cancel().catch(() => undefined);
      await sleep(backoff);
    }
  }

  /**
   * A blob's body from `offset`, through undici's stream API, which is much lighter than fetch for
   * large bodies; undefined when the registry ignored the range. Authentication is settled first with
   * a HEAD through `request`.
   */
  async blobBody(path: string, r: RegistryRequest, offset = 0): Promise<AsyncIterable<Buffer> | undefined> {
    await this.request(path, { ...r, method: 'HEAD' });
    const { request } = await undici();
    let url = `${this.base}${path}`;
    for (let hop = 0; hop < 5; hop++) {
      const sameHost = new URL(url).host === new URL(this.base).host;
      const auth = sameHost ? await this.authorization(r) : undefined;
      const dispatcher = this.dispatcherFor(url);
      const res = await request(url, {
        method: 'GET',
        headers: { ...(auth ? { authorization: auth } : {}), ...(offset > 0 ? { range: `bytes=${offset}-` } : {}) },
        ...(dispatcher ? { dispatcher } : {}),
      });
      if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
        // Blob storage elsewhere (S3...): follow without the registry's credentials.
        res.body.resume();
        url = new URL(String(res.headers.location), url).toString();
        continue;
      }
      if (res.statusCode !== 200 && res.statusCode !== 206) {
        res.body.resume();
        throw new RegistryError(`${this.domain}/${r.repo}: GET ${path.split('/').slice(3).join('/')} answered HTTP ${res.statusCode}`, res.statusCode);
      }
      if (offset > 0 && res.statusCode !== 206) {
        res.body.resume();
        return undefined;
      }
      return res.body as AsyncIterable<Buffer>;
    }
    throw new RegistryError(`${this.domain}/${r.repo}: too many redirects for ${path}`);
  }

  /** Streams a blob's body (from `offset`) into `sink`; -1 when the registry ignored the range. */
  async download(path: string, r: RegistryRequest, sink: NodeJS.WritableStream, offset = 0): Promise<number> {
    const body = await this.blobBody(path, r, offset);
    if (!body) return -1;
    // Written by hand rather than piped: a broken body must not destroy the sink, which resumes.
    let received = 0;
    for await (const chunk of body) {
      received += chunk.length;
      if (!sink.write(chunk)) await once(sink as unknown as NodeJS.EventEmitter, 'drain');
    }
    return received;
  }

  /** A request to the registry API, authenticating when challenged. */
  async request(path: string, r: RegistryRequest): Promise<Response> {
    await this.ready();
    const url = `${this.base}${path}`;
    for (let round = 0; round < 2; round++) {
      const auth = await this.authorization(r);
      const res = await this.send(url, { method: r.method, headers: { ...r.headers, ...(auth ? { authorization: auth } : {}) }, ...(r.body !== undefined ? { body: r.body } : {}) });
      if (res.status === 401 && round === 0) {
        const header = res.headers.get('www-authenticate') ?? '';
        await res.body?.cancel().catch(() => undefined);
        const challenges = parseWwwAuthenticate(header);
        this.challenge = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
        if (!this.challenge) throw new RegistryError(`${this.domain}/${r.repo}: authentication required, but the registry offered no scheme we know (${header || 'no WWW-Authenticate header'})`, 401);
        const creds = this.credentials();
        if (this.challenge.scheme === 'basic') {
          if (!creds?.username) throw this.denied(r, 401);
          this.basic = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
        }
        this.tokens.clear();
        continue;
      }
      if (res.ok || r.accept?.includes(res.status)) return res;
      throw await this.failure(res, r, path);
    }
    throw this.denied(r, 401);
  }

  private denied(r: RegistryRequest, status: number): RegistryError {
    const creds = this.credentials();
    const what = r.actions.includes('push') ? 'push to' : 'pull from';
    return new RegistryError(
      creds
        ? `${this.domain}/${r.repo}: access denied to ${what} it with the credentials found for ${this.domain} (HTTP ${status})`
        : `${this.domain}/${r.repo}: authentication required to ${what} it and no credentials were found for ${this.domain}: run dockyard login ${this.domain}`,
      status,
    );
  }

  private async failure(res: Response, r: RegistryRequest, path: string): Promise<RegistryError> {
    let detail = '';
    try {
      const body = (await res.json()) as { errors?: { code?: string; message?: string }[] };
      detail = (body.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
    } catch {
      // not a JSON error body
    }
    if (res.status === 401 || res.status === 403) return this.denied(r, res.status);
    if (res.status === 404) {
      const ref = path.split('/').at(-1)!.split('?')[0]!;
      const kind = path.includes('/blobs/') ? 'blob' : 'manifest';
      return new RegistryError(`${this.domain}/${r.repo}${ref.startsWith('sha256:') ? '@' : ':'}${ref}: ${kind} not found${detail ? ` (${detail})` : ''}`, 404);
    }
    return new RegistryError(`${this.domain}/${r.repo}: ${r.method ?? 'GET'} ${path.split('/').slice(3).join('/')} answered HTTP ${res.status}${detail ? `: ${detail}` : ''}`, res.status);
  }
}

