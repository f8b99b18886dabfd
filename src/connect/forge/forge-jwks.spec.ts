import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FlattenedJWSInput } from 'jose';
import { ConnectError } from '../errors/connect-error.js';
import { createForgeKeyPair, type ForgeKeyPair } from '../testing/fake-forge-keys.js';
import { ForgeJwksServer } from '../testing/fake-forge-jwks-server.js';
import { parseForgeJwksUrl } from '../config/url-options.js';
import { ForgeJwks } from './forge-jwks.js';

const TOKEN = { payload: '', signature: '' } as FlattenedJWSInput;

async function failure(run: Promise<unknown>): Promise<ConnectError> {
  try {
    await run;
  } catch (error) {
    if (error instanceof ConnectError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('parseForgeJwksUrl', () => {
  it('accepts https anywhere and http only on loopback', () => {
    expect(parseForgeJwksUrl('https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json').host).toBe('forge.cdn.prod.atlassian-dev.net');
    expect(parseForgeJwksUrl('http://127.0.0.1:9/.well-known/jwks.json').port).toBe('9');
    expect(parseForgeJwksUrl('http://localhost:9/jwks').hostname).toBe('localhost');
  });
  it.each(['http://forge.example.com/jwks', 'ftp://127.0.0.1/jwks', 'https://u:p@forge.example.com/jwks', 'https://forge.example.com/jwks?x=1', 'not a url'])(
    'refuses %s with config/invalid',
    (url) => {
      expect(() => parseForgeJwksUrl(url)).toThrow(expect.objectContaining({ code: 'config/invalid' }));
    },
  );
  it('refuses bad timing options at construction', () => {
    expect(() => new ForgeJwks({ url: 'https://x.example/j', timeoutMs: 0 })).toThrow(expect.objectContaining({ code: 'config/invalid' }));
    expect(() => new ForgeJwks({ url: 'https://x.example/j', cooldownMs: -1 })).toThrow(expect.objectContaining({ code: 'config/invalid' }));
  });
});

describe('ForgeJwks against a real local JWKS server', () => {
  let server: ForgeJwksServer;
  let key: ForgeKeyPair;

  beforeAll(async () => {
    key = await createForgeKeyPair();
  });
  beforeEach(async () => {
    server = await ForgeJwksServer.start();
    server.addKey(key.publicJwk);
  });
  afterEach(async () => {
    await server.close();
  });

  it('fetches once and serves the key from its cache', async () => {
    const jwks = new ForgeJwks({ url: server.url });
    expect((await jwks.key({ alg: 'RS256', kid: key.kid }, TOKEN)).type).toBe('public');
    await jwks.key({ alg: 'RS256', kid: key.kid }, TOKEN);
    expect(server.fetches()).toBe(1);
    expect(jwks.stats()).toEqual({ fetches: 1 });
  });

  it('an unknown kid refetches once after the cooldown, then is refused without fetching again', async () => {
    const jwks = new ForgeJwks({ url: server.url, cooldownMs: 500 });
    await jwks.key({ alg: 'RS256', kid: key.kid }, TOKEN);
    // Within the cooldown of the first fetch: refused, no fetch.
    expect((await failure(jwks.key({ alg: 'RS256', kid: 'unknown-1' }, TOKEN))).code).toBe('forge/unknown-kid');
    expect(server.fetches()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await failure(jwks.key({ alg: 'RS256', kid: 'unknown-1' }, TOKEN))).code).toBe('forge/unknown-kid');
    expect((await failure(jwks.key({ alg: 'RS256', kid: 'unknown-2' }, TOKEN))).code).toBe('forge/unknown-kid');
    expect(server.fetches()).toBe(2);
  });

  it('a slow JWKS times out as forge/jwks-unavailable', async () => {
    server.delay(2000);
    const jwks = new ForgeJwks({ url: server.url, timeoutMs: 200 });
    const started = Date.now();
    const error = await failure(jwks.key({ alg: 'RS256', kid: key.kid }, TOKEN));
    expect(error.code).toBe('forge/jwks-unavailable');
    expect(error.message).toContain('did not answer in time');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it.each<[string, (s: ForgeJwksServer) => unknown, RegExp]>([
    ['HTTP 500', (s) => s.failWith(500), /answered HTTP 500/],
    ['HTTP 404', (s) => s.failWith(404), /answered HTTP 404/],
    ['not JSON', (s) => s.respondWith('<html>down</html>'), /could not be used/],
    ['not a key set', (s) => s.respondWith('{"keys":{}}'), /not serve a valid JSON Web Key Set/],
    ['a body over the cap', (s) => s.respondWith(JSON.stringify({ keys: [], pad: 'x'.repeat(70_000) })), /larger than a key set/],
  ])('%s is forge/jwks-unavailable', async (_, fault, message) => {
    fault(server);
    const error = await failure(new ForgeJwks({ url: server.url }).key({ alg: 'RS256', kid: key.kid }, TOKEN));
    expect(error.code).toBe('forge/jwks-unavailable');
    expect(error.message).toMatch(message);
  });

  it('a host that is down is forge/jwks-unavailable', async () => {
    await server.down();
    const error = await failure(new ForgeJwks({ url: server.url }).key({ alg: 'RS256', kid: key.kid }, TOKEN));
    expect(error.code).toBe('forge/jwks-unavailable');
  });

  it('does not follow redirects', async () => {
    const redirector: Server = createServer((_, res) => res.writeHead(302, { location: server.url }).end());
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/.well-known/jwks.json`;
      const error = await failure(new ForgeJwks({ url }).key({ alg: 'RS256', kid: key.kid }, TOKEN));
      expect(error.code).toBe('forge/jwks-unavailable');
      expect(server.fetches()).toBe(0);
    } finally {
      await new Promise((resolve) => redirector.close(resolve));
    }
  });
});
