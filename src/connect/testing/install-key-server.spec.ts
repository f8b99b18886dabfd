import { importSPKI } from 'jose';
import { createInstallKeyPair, type InstallKeyPair } from './install-key-pair.js';
import { InstallKeyServer } from './install-key-server.js';

describe('createInstallKeyPair', () => {
  it('makes an RS256 pair with a UUID kid and an SPKI PEM public key', async () => {
    const pair = await createInstallKeyPair();
    expect(pair.kid).toMatch(/^[0-9a-f-]{36}$/);
    expect(pair.publicKeyPem.startsWith('-----BEGIN PUBLIC KEY-----')).toBe(true);
    expect(pair.privateKey.type).toBe('private');
    const imported = await importSPKI(pair.publicKeyPem, 'RS256');
    expect((imported.algorithm as { modulusLength?: number }).modulusLength).toBe(2048);
  });

  it('takes a kid and a modulus length', async () => {
    const pair = await createInstallKeyPair({ kid: 'custom', modulusLength: 3072 });
    expect(pair.kid).toBe('custom');
    const imported = await importSPKI(pair.publicKeyPem, 'RS256');
    expect((imported.algorithm as { modulusLength?: number }).modulusLength).toBe(3072);
  });
});

describe('InstallKeyServer', () => {
  let server: InstallKeyServer;
  let pair: InstallKeyPair;

  beforeAll(async () => {
    pair = await createInstallKeyPair({ kid: 'k1' });
  });

  beforeEach(async () => {
    server = await InstallKeyServer.start();
    server.add(pair);
  });

  afterEach(async () => {
    await server.close();
  });

  it('serves a key as PEM on 127.0.0.1 and counts requests', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${server.url}/k1`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-pem-file');
    expect(await response.text()).toBe(pair.publicKeyPem);
    expect(server.requests('k1')).toBe(1);
    expect(server.requests()).toBe(1);
  });

  it('answers 404 for unknown kids and other paths, and counts them all in the total', async () => {
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/k1/extra`)).status).toBe(404);
    expect((await fetch(`${server.url}/`)).status).toBe(404);
    expect(server.requests('nope')).toBe(1);
    expect(server.requests('k1')).toBe(0);
    expect(server.requests()).toBe(3);
    server.remove('k1');
    expect((await fetch(`${server.url}/k1`)).status).toBe(404);
    server.resetRequests();
    expect(server.requests()).toBe(0);
  });

  it('refuses methods other than GET and HEAD', async () => {
    expect((await fetch(`${server.url}/k1`, { method: 'POST', body: 'x' })).status).toBe(405);
    const head = await fetch(`${server.url}/k1`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('serves under a path prefix only', async () => {
    const prefixed = await InstallKeyServer.start({ pathPrefix: 'keys/' });
    try {
      prefixed.add(pair);
      expect(prefixed.url.endsWith('/keys')).toBe(true);
      expect((await fetch(`${prefixed.url}/k1`)).status).toBe(200);
      expect((await fetch(`${new URL(prefixed.url).origin}/k1`)).status).toBe(404);
    } finally {
      await prefixed.close();
    }
  });

  it('fails with a chosen status until reset with null', async () => {
    server.failWith(503);
    expect((await fetch(`${server.url}/k1`)).status).toBe(503);
    server.failWith(null);
    expect((await fetch(`${server.url}/k1`)).status).toBe(200);
    expect(() => server.failWith(42)).toThrow(RangeError);
  });

  it('responds with arbitrary bodies, content types and headers', async () => {
    server.respondWith({ status: 201, contentType: 'text/html', body: '<html></html>', headers: { 'x-test': '1' } });
    let response = await fetch(`${server.url}/anything`);
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('text/html');
    expect(response.headers.get('x-test')).toBe('1');
    expect(await response.text()).toBe('<html></html>');

    server.respondWith({ contentType: null, body: 'x'.repeat(10_000), chunked: true });
    response = await fetch(`${server.url}/k1`);
    expect(response.headers.get('content-type')).toBeNull();
    expect(response.headers.get('content-length')).toBeNull();
    expect((await response.text()).length).toBe(10_000);

    server.respondWith(null);
    expect(await (await fetch(`${server.url}/k1`)).text()).toBe(pair.publicKeyPem);
  });

  it('delays responses before the headers or before the body', async () => {
    server.delay(200);
    let started = Date.now();
    await (await fetch(`${server.url}/k1`)).text();
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);

    server.delay(200, 'body');
    started = Date.now();
    const response = await fetch(`${server.url}/k1`);
    const headersAfter = Date.now() - started;
    await response.text();
    expect(headersAfter).toBeLessThan(150);
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
  });

  it('goes down and comes back up on the same port', async () => {
    const port = server.port;
    await fetch(`${server.url}/k1`).then((r) => r.text()); // a keep-alive connection
    await server.down();
    expect(server.isUp).toBe(false);
    await expect(fetch(`${server.url}/k1`)).rejects.toThrow();
    await server.up();
    expect(server.isUp).toBe(true);
    expect(server.port).toBe(port);
    expect((await fetch(`${server.url}/k1`)).status).toBe(200);
  });

  it('closes cleanly with a delayed request pending, and close is idempotent', async () => {
    server.delay(10_000);
    const pending = fetch(`${server.url}/k1`).then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.requests('k1')).toBe(1);
    await server.close();
    expect(await pending).toBe('failed');
    await server.close();
    await expect(server.up()).rejects.toThrow();
  });
});
