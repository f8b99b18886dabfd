import { generateKeyPairSync } from 'node:crypto';
import { httpStatusOf } from '../errors/connect-error-http.js';
import { exportSPKI, generateKeyPair, jwtVerify } from 'jose';
import { ConnectError } from '../errors/connect-error.js';
import { createInstallKeyPair, type InstallKeyPair } from '../testing/install-key-pair.js';
import { InstallKeyServer } from '../testing/install-key-server.js';
import { CONNECT_DEFAULTS } from '../config/connect-defaults.js';
import { expectCode, rejectionOf, signedByInstallKey } from './install-key.spec-helpers.js';
import { HttpInstallKeyResolver, type HttpInstallKeyResolverOptions } from './http-install-key-resolver.js';

describe('HttpInstallKeyResolver against a real key server', () => {
  let server: InstallKeyServer;
  let pairA: InstallKeyPair;
  let pairB: InstallKeyPair;
  let pairC: InstallKeyPair;

  const resolver = (options: Partial<HttpInstallKeyResolverOptions> = {}) => new HttpInstallKeyResolver({ baseUrl: server.url, ...options });

  beforeAll(async () => {
    [pairA, pairB, pairC] = await Promise.all([createInstallKeyPair({ kid: 'key-a' }), createInstallKeyPair({ kid: 'key-b' }), createInstallKeyPair()]);
    server = await InstallKeyServer.start();
    server.add(pairA).add(pairB).add(pairC);
  });

  afterEach(async () => {
    server.reset().resetRequests();
    await server.up();
  });

  afterAll(async () => {
    await server.close();
  });

  it('exposes its defaults', () => {
    expect({ timeoutMs: CONNECT_DEFAULTS.installKeyTimeoutMs, ...CONNECT_DEFAULTS.installKeyFetch }).toEqual({ timeoutMs: 5000, maxBodyBytes: 16 * 1024, cacheSize: 64 });
  });

  it('resolves a key that verifies a token signed with the matching private key', async () => {
    const keys = resolver();
    const key = await keys.resolve(pairA.kid);
    expect(key.type).toBe('public');
    expect(key.algorithm.name).toBe('RSASSA-PKCS1-v1_5');

    const { payload, protectedHeader } = await jwtVerify(await signedByInstallKey(pairA), key, { algorithms: ['RS256'] });
    expect(protectedHeader.kid).toBe(pairA.kid);
    expect(payload.iss).toBe('jira:client-key');

    // and it is that key, not any key: a token signed by another key does not verify
    await expect(jwtVerify(await signedByInstallKey(pairB), key, { algorithms: ['RS256'] })).rejects.toThrow();
    expect(server.requests(pairA.kid)).toBe(1);
  });

  it('resolves a default (UUID) kid', async () => {
    expect(pairC.kid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const key = await resolver().resolve(pairC.kid);
    await jwtVerify(await signedByInstallKey(pairC), key);
  });

  it('serves a second resolve of the same kid from the cache', async () => {
    const keys = resolver();
    const first = await keys.resolve(pairA.kid);
    const second = await keys.resolve(pairA.kid);
    expect(second).toBe(first);
    expect(server.requests(pairA.kid)).toBe(1);
    expect(keys.stats()).toEqual({ fetches: 1, cached: 1, inFlight: 0 });
  });

  it('shares one fetch between 20 concurrent resolves of one kid', async () => {
    server.delay(100);
    const keys = resolver();
    const resolved = await Promise.all(Array.from({ length: 20 }, () => keys.resolve(pairA.kid)));
    expect(new Set(resolved).size).toBe(1);
    expect(server.requests(pairA.kid)).toBe(1);
    expect(keys.stats().fetches).toBe(1);
    expect(keys.stats().inFlight).toBe(0);
  });

  it('shares one failure between concurrent resolves and does not cache it', async () => {
    server.delay(50).failWith(500);
    const keys = resolver();
    const errors = await Promise.all(Array.from({ length: 5 }, () => rejectionOf(keys.resolve(pairA.kid))));
    expect(errors.every((error) => error.code === 'jwt/key-unavailable')).toBe(true);
    expect(server.requests(pairA.kid)).toBe(1);
    server.reset();
    await keys.resolve(pairA.kid);
    expect(server.requests(pairA.kid)).toBe(2);
  });

  it.each([
    ['a parent path', '../key-a'],
    ['a parent path alone', '..'],
    ['a slash', 'keys/key-a'],
    ['a leading slash', '/key-a'],
    ['an encoded slash', '%2Fkey-a'],
    ['an encoded parent', '%2e%2e'],
    ['a URL', 'http://evil.example/key'],
    ['a dot', 'key-a.pem'],
    ['a query', 'key-a?x=1'],
    ['a fragment', 'key-a#x'],
    ['whitespace', 'key a'],
    ['nothing', ''],
    ['200 characters', 'a'.repeat(200)],
  ])('refuses a kid with %s before any request is made', async (_label, kid) => {
    const keys = resolver();
    const error = await expectCode(keys.resolve(kid), 'jwt/invalid-kid');
    expect(error.message).not.toContain(kid === '' ? '\u0000' : kid);
    expect(server.requests()).toBe(0);
    expect(keys.stats().fetches).toBe(0);
  });

  it.each([undefined, null, 42, { kid: 'key-a' }])('refuses the non-string kid %p', async (kid) => {
    await expectCode(resolver().resolve(kid as unknown as string), 'jwt/invalid-kid');
    expect(server.requests()).toBe(0);
  });

  it('maps an unknown kid (404) to jwt/invalid-kid', async () => {
    const error = await expectCode(resolver().resolve('no-such-key'), 'jwt/invalid-kid');
    expect(error.message).toContain(server.url);
    expect(error.message).toContain('no-such-key');
    expect(error.detail).toMatchObject({ status: 404, kid: 'no-such-key' });
    expect(server.requests('no-such-key')).toBe(1);
  });

  it('maps 410 Gone to jwt/invalid-kid', async () => {
    server.failWith(410);
    await expectCode(resolver().resolve(pairA.kid), 'jwt/invalid-kid');
  });

  it.each([500, 502, 503, 401, 403, 429, 204, 206])('maps HTTP %p to jwt/key-unavailable', async (status) => {
    server.failWith(status);
    const error = await expectCode(resolver().resolve(pairA.kid), 'jwt/key-unavailable');
    expect(error.message).toContain(`HTTP ${status}`);
  });

  it('recovers after a 500 once the key host is healthy again (failures are not cached)', async () => {
    const keys = resolver();
    server.failWith(500);
    const error = await expectCode(keys.resolve(pairA.kid), 'jwt/key-unavailable');
    expect(error.message).toContain(server.url);
    expect(error.message).toContain(pairA.kid);
    server.failWith(null);
    const key = await keys.resolve(pairA.kid);
    await jwtVerify(await signedByInstallKey(pairA), key);
    expect(server.requests(pairA.kid)).toBe(2);
  });

  it('does not follow redirects', async () => {
    const elsewhere = await InstallKeyServer.start();
    try {
      elsewhere.add(pairA);
      server.respondWith({ status: 302, body: '', headers: { location: `${elsewhere.url}/${pairA.kid}` } });
      await expectCode(resolver().resolve(pairA.kid), 'jwt/key-unavailable');
      expect(elsewhere.requests()).toBe(0);
    } finally {
      await elsewhere.close();
    }
  });

  it('reports jwt/key-unavailable while the key host is down, and works once it is up', async () => {
    const keys = resolver();
    await keys.resolve(pairB.kid); // leaves a keep-alive connection behind
    await server.down();
    const error = await expectCode(keys.resolve(pairA.kid), 'jwt/key-unavailable');
    expect(error.message).toContain('could not be reached');
    await server.up();
    await keys.resolve(pairA.kid);
    expect(server.requests(pairA.kid)).toBe(1);
  });

  it('gives up on a slow key host within about the timeout', async () => {
    server.delay(3000);
    const started = Date.now();
    const error = await expectCode(resolver({ timeoutMs: 300 }).resolve(pairA.kid), 'jwt/key-unavailable');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1500);
    expect(error.message).toContain('300 ms');
  });

  it('applies the timeout to the body too', async () => {
    server.delay(3000, 'body');
    const started = Date.now();
    const error = await expectCode(resolver({ timeoutMs: 300 }).resolve(pairA.kid), 'jwt/key-unavailable');
    expect(Date.now() - started).toBeLessThan(1500);
    expect(error.message).toContain('300 ms');
  });

  it('refuses a body larger than the cap announced by Content-Length', async () => {
    server.respondWith({ body: 'A'.repeat(1024 * 1024) });
    const error = await expectCode(resolver().resolve(pairA.kid), 'jwt/key-unavailable');
    expect(error.message).toContain(`${16 * 1024} bytes`);
  });

  it('refuses on the announced Content-Length alone, without waiting for the body', async () => {
    // announces 1 MB but sends a few bytes: only the header check can answer before the timeout
    server.respondWith({ body: 'short', headers: { 'content-length': String(1024 * 1024) } });
    const error = await expectCode(resolver({ timeoutMs: 2000 }).resolve(pairA.kid), 'jwt/key-unavailable');
    expect(error.message).toContain('more than');
  });

  it('refuses a chunked body once it grows past the cap', async () => {
    server.respondWith({ body: `${pairA.publicKeyPem}\n${' '.repeat(4096)}`, chunked: true });
    await expectCode(resolver({ maxBodyBytes: 2048 }).resolve(pairA.kid), 'jwt/key-unavailable');
    // the same body within the cap is fine (trailing whitespace is tolerated)
    await resolver({ maxBodyBytes: 8192 }).resolve(pairA.kid);
  });

  it('refuses a huge chunked body without reading all of it', async () => {
    server.respondWith({ body: new Uint8Array(8 * 1024 * 1024).fill(65), chunked: true });
    const started = Date.now();
    const error = await expectCode(resolver().resolve(pairA.kid), 'jwt/key-unavailable');
    expect(error.message).toContain('more than');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it.each([
    ['plain text', 'this is not a key'],
    ['a broken PEM', '-----BEGIN PUBLIC KEY-----\nAAAAAAAA\n-----END PUBLIC KEY-----\n'],
    ['a private key marker', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'],
    ['an empty body', ''],
    ['invalid UTF-8', new Uint8Array([0xff, 0xfe, 0xfd])],
  ])('refuses %s as jwt/key-unavailable without echoing it', async (_label, body) => {
    server.respondWith({ body });
    const error = await expectCode(resolver().resolve(pairA.kid), 'jwt/key-unavailable');
    expect(error.message).toContain('not an RSA public key');
    if (typeof body === 'string' && body !== '') expect(error.message).not.toContain(body.trim().slice(0, 20));
  });

  it('never puts the PEM into its messages', async () => {
    const lines = pairA.publicKeyPem.trim().split('\n');
    const damaged = [...lines.slice(0, 2), ...lines.slice(3)].join('\n'); // drops one base64 line
    expect(damaged).not.toBe(pairA.publicKeyPem.trim());
    server.respondWith({ body: damaged });
    const error = await expectCode(resolver().resolve(pairA.kid), 'jwt/key-unavailable');
    const body = pairA.publicKeyPem.split('\n')[1] ?? '';
    expect(body.length).toBeGreaterThan(20);
    expect(error.message).not.toContain(body.slice(0, 20));
    expect(JSON.stringify(error.detail)).not.toContain(body.slice(0, 20));
  });

  it.each([
    ['an EC P-256 key', 'ec', async () => exportSPKI((await generateKeyPair('ES256', { extractable: true })).publicKey)],
    ['an Ed25519 key', 'ed25519', async () => exportSPKI((await generateKeyPair('EdDSA', { extractable: true, crv: 'Ed25519' })).publicKey)],
    ['an RSA-PSS-only key', 'rsa-pss', async () => generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString()],
  ] as const)('refuses %s as jwt/invalid-key (401: retrying brings the same key)', async (_name, type, pem) => {
    server.respondWith({ body: await pem() });
    const error = await expectCode(resolver().resolve(pairA.kid), 'jwt/invalid-key');
    expect(error.message).toContain(`as a ${type} key; signed installs need an RSA key`);
    expect(httpStatusOf(error.code)).toBe(401);
  });

  it('refuses a 1024-bit RSA key as jwt/invalid-key (401)', async () => {
    const weak = await createInstallKeyPair({ kid: 'weak', modulusLength: 1024 });
    server.add(weak);
    try {
      const error = await expectCode(resolver().resolve(weak.kid), 'jwt/invalid-key');
      expect(httpStatusOf(error.code)).toBe(401);
      expect(error.message).toContain('1024-bit');
      expect(error.message).toContain('2048');
    } finally {
      server.remove(weak.kid);
    }
  });

  it('accepts a 4096-bit RSA key', async () => {
    const strong = await createInstallKeyPair({ kid: 'strong', modulusLength: 4096 });
    server.add(strong);
    try {
      const key = await resolver().resolve(strong.kid);
      await jwtVerify(await signedByInstallKey(strong), key);
    } finally {
      server.remove(strong.kid);
    }
  });

  it.each(['text/html; charset=utf-8', 'application/json', 'application/problem+json', 'text/xml', 'image/png'])('refuses a key served as %s', async (contentType) => {
    server.respondWith({ body: pairA.publicKeyPem, contentType });
    const error = await expectCode(resolver().resolve(pairA.kid), 'jwt/key-unavailable');
    expect(error.message).toContain(contentType.split(';')[0]);
    expect(error.message).toContain('install keys URL');
  });

  it.each(['text/plain', 'text/plain; charset=utf-8', 'application/x-pem-file', 'application/octet-stream', 'binary/octet-stream', 'application/pkix-keys', null])(
    'accepts a key served as %p',
    async (contentType) => {
      server.respondWith({ body: pairA.publicKeyPem, contentType });
      const key = await resolver().resolve(pairA.kid);
      await jwtVerify(await signedByInstallKey(pairA), key);
    },
  );

  it('works with a base URL that has a path prefix, with or without a trailing slash', async () => {
    const prefixed = await InstallKeyServer.start({ pathPrefix: '/connect/keys' });
    try {
      prefixed.add(pairA);
      expect(prefixed.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/connect\/keys$/);
      const key = await new HttpInstallKeyResolver({ baseUrl: prefixed.url }).resolve(pairA.kid);
      await jwtVerify(await signedByInstallKey(pairA), key);
      await new HttpInstallKeyResolver({ baseUrl: `${prefixed.url}/` }).resolve(pairA.kid);
      expect(prefixed.requests(pairA.kid)).toBe(2);

      // the prefix is really used: without it the key is unknown
      const origin = new URL(prefixed.url).origin;
      await expectCode(new HttpInstallKeyResolver({ baseUrl: origin }).resolve(pairA.kid), 'jwt/invalid-kid');
    } finally {
      await prefixed.close();
    }
  });

  it('keeps at most cacheSize keys, evicting the least recently used', async () => {
    const keys = resolver({ cacheSize: 2 });
    await keys.resolve(pairA.kid);
    await keys.resolve(pairB.kid);
    await keys.resolve(pairC.kid); // evicts A
    expect(keys.stats().cached).toBe(2);
    await keys.resolve(pairC.kid);
    await keys.resolve(pairB.kid);
    expect(server.requests(pairB.kid)).toBe(1);
    expect(server.requests(pairC.kid)).toBe(1);
    await keys.resolve(pairA.kid); // fetched again
    expect(server.requests(pairA.kid)).toBe(2);
    expect(keys.stats().fetches).toBe(4);
  });

  it('passes redirect: error, a timeout signal and the URL to the fetch it is given', async () => {
    const calls: Array<{ url: string; init: RequestInit | undefined }> = [];
    const recording: typeof fetch = async (input, init) => {
      calls.push({ url: String(input), init });
      return fetch(input, init);
    };
    await resolver({ fetch: recording }).resolve(pairA.kid);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe(`${server.url}/${pairA.kid}`);
    expect(calls[0]?.init?.redirect).toBe('error');
    expect(calls[0]?.init?.signal).toBeInstanceOf(AbortSignal);
  });

  it('turns a throwing fetch into jwt/key-unavailable', async () => {
    const failing: typeof fetch = async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('boom'), { code: 'ECONNRESET' }) });
    };
    const error = await expectCode(resolver({ fetch: failing }).resolve(pairA.kid), 'jwt/key-unavailable');
    expect(error.detail?.reason).toContain('ECONNRESET');
  });

  it.each([
    [{ baseUrl: 'ftp://keys.example' }],
    [{ baseUrl: 'keys.example' }],
    [{ baseUrl: 'https://keys.example/?x=1' }],
    [{ baseUrl: 'https://keys.example', timeoutMs: 0 }],
    [{ baseUrl: 'https://keys.example', maxBodyBytes: -1 }],
    [{ baseUrl: 'https://keys.example', cacheSize: 1.5 }],
  ])('refuses the options %p with config/invalid', (options) => {
    let thrown: unknown;
    try {
      new HttpInstallKeyResolver(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConnectError);
    expect((thrown as ConnectError).code).toBe('config/invalid');
  });
});
