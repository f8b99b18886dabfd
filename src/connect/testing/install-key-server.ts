import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback, startLoopbackServer } from './fake-http.js';

export interface InstallKeyServerOptions {
  /** Serve keys under this path, e.g. `/keys` gives `http://127.0.0.1:PORT/keys/<kid>`. Default: none. */
  pathPrefix?: string;
  /** Listen on this port of 127.0.0.1 (e.g. one the app was already configured with). Default 0: a free port. */
  port?: number;
}

/** An arbitrary answer to every key request, see {@link InstallKeyServer.respondWith}. */
export interface InstallKeyServerResponse {
  /** Default 200. */
  status?: number;
  /** Default `text/plain`; `null` sends no Content-Type header. */
  contentType?: string | null;
  body: string | Uint8Array;
  /** Send the body chunked, without a Content-Length header. Default false. */
  chunked?: boolean;
  /** Extra response headers, e.g. `{ location: 'http://elsewhere/' }` with a 3xx status. */
  headers?: Readonly<Record<string, string>>;
}

/** Where {@link InstallKeyServer.delay} stalls: before the status line, or between headers and body. */
export type InstallKeyServerDelayPhase = 'headers' | 'body';

/**
 * A local stand-in for Atlassian's install keys CDN: a real HTTP server on 127.0.0.1 (random port)
 * serving SPKI PEM public keys at `<url>/<kid>`, with fault controls for tests. Use its `url` as the
 * app's install keys URL. Call `close()` when done.
 *
 * ```ts
 * const keys = await InstallKeyServer.start();
 * const pair = await createInstallKeyPair();
 * keys.add(pair);
 * // … configure installKeysUrl: keys.url, sign install tokens with pair.privateKey and kid pair.kid …
 * await keys.close();
 * ```
 */
export class InstallKeyServer {
  /** The base URL to use as install keys URL (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly pathPrefix: string;

  private readonly keys = new Map<string, string>();
  private readonly perKid = new Map<string, number>();
  private total = 0;
  private failStatus: number | null = null;
  private custom: InstallKeyServerResponse | null = null;
  private delayMs = 0;
  private delayPhase: InstallKeyServerDelayPhase = 'headers';
  private readonly pauses = new Set<() => void>();
  private listening = true;
  private closed = false;

  private constructor(
    private readonly server: Server,
    port: number,
    pathPrefix: string,
  ) {
    this.port = port;
    this.pathPrefix = pathPrefix;
    this.url = `http://127.0.0.1:${port}${pathPrefix}`;
  }

  /** Starts a server on 127.0.0.1, on `options.port` or else a free port. */
  static async start(options: InstallKeyServerOptions = {}): Promise<InstallKeyServer> {
    const prefix = normalizePrefix(options.pathPrefix ?? '');
    let instance: InstallKeyServer | undefined;
    const wanted = options.port ?? 0;
    if (!Number.isInteger(wanted) || wanted < 0 || wanted > 65535) throw new RangeError('port must be an integer from 0 to 65535');
    const { server, port } = await startLoopbackServer(wanted, async (req, res) => {
      if (instance === undefined) {
        res.writeHead(503).end();
        return;
      }
      await instance.handle(req, res);
    });
    instance = new InstallKeyServer(server, port, prefix);
    return instance;
  }

  /** Serves `publicKeyPem` at `<url>/<kid>` (replacing a key of the same kid). An `InstallKeyPair` fits. */
  add(key: { readonly kid: string; readonly publicKeyPem: string }): this {
    this.keys.set(key.kid, key.publicKeyPem);
    return this;
  }

  /** Stops serving a key; later requests for it get 404. */
  remove(kid: string): boolean {
    return this.keys.delete(kid);
  }

  /**
   * How many requests reached the server: with a kid, the GET/HEAD requests for that key; without, every
   * request on any path (so a test can prove that nothing at all was sent).
   */
  requests(kid?: string): number {
    return kid === undefined ? this.total : (this.perKid.get(kid) ?? 0);
  }

  /** Sets the request counters back to zero. */
  resetRequests(): this {
    this.total = 0;
    this.perKid.clear();
    return this;
  }

  /** Answers every key request with this HTTP status (and a short text body); `null` to stop. */
  failWith(status: number | null): this {
    if (status !== null && (!Number.isInteger(status) || status < 100 || status > 599)) {
      throw new RangeError('status must be an HTTP status code (100-599) or null');
    }
    this.failStatus = status;
    return this;
  }

  /** Answers every key request with this response instead of the keys; `null` to stop. */
  respondWith(response: InstallKeyServerResponse | null): this {
    this.custom = response;
    return this;
  }

  /** Holds every key request for `ms` milliseconds before answering (0 to stop). */
  delay(ms: number, phase: InstallKeyServerDelayPhase = 'headers'): this {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('ms must be a non-negative number');
    this.delayMs = ms;
    this.delayPhase = phase;
    return this;
  }

  /** Clears `failWith`, `respondWith` and `delay` (keys and counters stay). */
  reset(): this {
    this.failStatus = null;
    this.custom = null;
    this.delayMs = 0;
    return this;
  }

  /** Whether the server currently accepts connections. */
  get isUp(): boolean {
    return this.listening;
  }

  /**
   * Takes the server down: stops listening (new connections are refused) and destroys every open
   * connection. `up()` listens again on the same port.
   */
  async down(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    await this.stop();
  }

  /** Listens again, on the same port, after `down()`. */
  async up(): Promise<void> {
    if (this.closed) throw new Error('The install key server is closed.');
    if (this.listening) return;
    await listenOnLoopback(this.server, this.port);
    this.listening = true;
  }

  /** Stops the server and drops every connection and pending response. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const wasListening = this.listening;
    this.listening = false;
    if (wasListening) await this.stop();
    for (const cancel of [...this.pauses]) cancel();
  }

  private async stop(): Promise<void> {
    const closed = closeServer(this.server);
    for (const cancel of [...this.pauses]) cancel();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.total++;
    const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
    const kid = this.kidOf(rawPath);
    if (kid === undefined) return send(res, 404, 'text/plain', 'Not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, 'text/plain', 'Method not allowed\n');
    }
    this.perKid.set(kid, (this.perKid.get(kid) ?? 0) + 1);

    const delayMs = this.delayMs;
    const phase = this.delayPhase;
    if (delayMs > 0 && phase === 'headers' && !(await this.pause(delayMs, res))) return;

    let status: number;
    let contentType: string | null;
    let body: string | Uint8Array;
    let chunked = false;
    let headers: Readonly<Record<string, string>> = {};
    if (this.failStatus !== null) {
      status = this.failStatus;
      contentType = 'text/plain';
      body = `HTTP ${status}\n`;
    } else if (this.custom !== null) {
      status = this.custom.status ?? 200;
      contentType = this.custom.contentType === undefined ? 'text/plain' : this.custom.contentType;
      body = this.custom.body;
      chunked = this.custom.chunked ?? false;
      headers = this.custom.headers ?? {};
    } else {
      const pem = this.keys.get(kid);
      if (pem === undefined) {
        status = 404;
        contentType = 'text/plain';
        body = 'Key not found\n';
      } else {
        status = 200;
        contentType = 'application/x-pem-file';
        body = pem;
      }
    }

    if (res.destroyed) return;
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
    res.statusCode = status;
    if (contentType !== null) res.setHeader('content-type', contentType);
    if (!chunked) res.setHeader('content-length', bytes.byteLength);
    res.setHeader('cache-control', 'no-store');
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (delayMs > 0 && phase === 'body') {
      res.flushHeaders();
      if (!(await this.pause(delayMs, res))) return;
    }
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (chunked) {
      const chunkSize = 4096;
      for (let offset = 0; offset < bytes.byteLength; offset += chunkSize) {
        if (res.destroyed) return;
        const more = res.write(bytes.subarray(offset, offset + chunkSize));
        if (!more) await drainOrClose(res);
      }
      if (!res.destroyed) res.end();
      return;
    }
    res.end(bytes);
  }

  /** The decoded kid of a key path `<prefix>/<kid>`, or undefined for any other path. */
  private kidOf(rawPath: string): string | undefined {
    const start = `${this.pathPrefix}/`;
    if (!rawPath.startsWith(start)) return undefined;
    const segment = rawPath.slice(start.length);
    if (segment === '' || segment.includes('/')) return undefined;
    try {
      return decodeURIComponent(segment);
    } catch {
      return undefined;
    }
  }

  /** Waits `ms`; resolves false (early) when the client went away or the server is stopping. */
  private pause(ms: number, res: ServerResponse): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const finish = (completed: boolean) => {
        clearTimeout(timer);
        this.pauses.delete(cancel);
        res.off('close', cancel);
        resolve(completed && !res.destroyed);
      };
      const cancel = () => finish(false);
      const timer = setTimeout(() => finish(true), ms);
      this.pauses.add(cancel);
      res.on('close', cancel);
    });
  }
}

function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/\/+$/, '');
  if (trimmed === '') return '';
  if (/[?#\s]/.test(trimmed)) throw new RangeError('pathPrefix must be a plain path');
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  if (res.destroyed) return;
  res.statusCode = status;
  res.setHeader('content-type', contentType);
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
