import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { JWK } from 'jose';
import { closeServer, listenOnLoopback, startLoopbackServer } from './fake-http.js';

/** Where the JWKS is served, as on Forge's CDN. */
export const FORGE_JWKS_PATH = '/.well-known/jwks.json';

export interface ForgeJwksServerOptions {
  /** Listen on this port of 127.0.0.1 (one the app was configured with). Default 0: a free port. */
  port?: number;
}

/**
 * A local stand-in for Forge's JWKS CDN: a real HTTP server on 127.0.0.1 serving `{ keys: [...] }` at
 * `/.well-known/jwks.json`, counting fetches, with fault controls (down, an HTTP status, a garbage body,
 * a slow answer). Use its `url` as the app's `forge.jwksUrl`.
 */
export class ForgeJwksServer {
  /** `http://127.0.0.1:<port>/.well-known/jwks.json` */
  readonly url: string;
  readonly port: number;

  private keys: JWK[] = [];
  private fetchCount = 0;
  private failStatus: number | null = null;
  private body: string | null = null;
  private delayMs = 0;
  private listening = true;
  private closed = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    port: number,
  ) {
    this.port = port;
    this.url = `http://127.0.0.1:${port}${FORGE_JWKS_PATH}`;
  }

  static async start(options: ForgeJwksServerOptions = {}): Promise<ForgeJwksServer> {
    let instance: ForgeJwksServer | undefined;
    const { server, port } = await startLoopbackServer(options.port ?? 0, async (req, res) => {
      if (instance === undefined) {
        res.writeHead(503).end();
        return;
      }
      instance.handle(req, res);
    });
    instance = new ForgeJwksServer(server, port);
    return instance;
  }

  /** The public keys served now (replaces the list). */
  setKeys(keys: readonly JWK[]): this {
    this.keys = keys.map((key) => ({ ...key }));
    return this;
  }

  /** Adds a key to the served set (a rotation publishes the new key beside the old one). */
  addKey(key: JWK): this {
    this.keys = [...this.keys.filter((k) => k.kid !== key.kid), { ...key }];
    return this;
  }

  removeKey(kid: string): this {
    this.keys = this.keys.filter((k) => k.kid !== kid);
    return this;
  }

  /** How many JWKS requests reached the server (GET on the JWKS path). */
  fetches(): number {
    return this.fetchCount;
  }

  resetFetches(): this {
    this.fetchCount = 0;
    return this;
  }

  /** Answers every fetch with this status (and a short text body); `null` to stop. */
  failWith(status: number | null): this {
    this.failStatus = status;
    return this;
  }

  /** Answers every fetch with 200 and this body instead of the keys (e.g. garbage); `null` to stop. */
  respondWith(body: string | null): this {
    this.body = body;
    return this;
  }

  /** Holds every answer for `ms` milliseconds (0 to stop). */
  delay(ms: number): this {
    this.delayMs = ms;
    return this;
  }

  /** Clears `failWith`, `respondWith` and `delay`. */
  reset(): this {
    this.failStatus = null;
    this.body = null;
    this.delayMs = 0;
    return this;
  }

  /** Stops listening and drops open connections: the JWKS host is down. `up()` listens again on the same port. */
  async down(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    await this.stop();
  }

  async up(): Promise<void> {
    if (this.closed) throw new Error('The JWKS server is closed.');
    if (this.listening) return;
    await listenOnLoopback(this.server, this.port);
    this.listening = true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.listening) await this.stop();
    this.listening = false;
  }

  private async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await closeServer(this.server);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== FORGE_JWKS_PATH || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
      return;
    }
    this.fetchCount++;
    const answer = () => {
      if (res.destroyed) return;
      if (this.failStatus !== null) {
        res.writeHead(this.failStatus, { 'content-type': 'text/plain' }).end(`HTTP ${this.failStatus}\n`);
        return;
      }
      const body = this.body ?? JSON.stringify({ keys: this.keys });
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300', 'content-length': Buffer.byteLength(body) }).end(body);
    };
    if (this.delayMs <= 0) return answer();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      answer();
    }, this.delayMs);
    this.timers.add(timer);
    res.on('close', () => {
      clearTimeout(timer);
      this.timers.delete(timer);
    });
  }
}
