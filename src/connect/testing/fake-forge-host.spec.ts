import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { FakeForgeHost, SAMPLE_FORGE_ACCOUNT_ID } from './fake-forge-host.js';

const APP_ID = '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11';

describe('FakeForgeHost', () => {
  let forge: FakeForgeHost;
  beforeEach(async () => {
    forge = await FakeForgeHost.start({ appId: APP_ID });
  });
  afterEach(async () => {
    await forge.close();
  });

  it('mints FITs that verify against its own JWKS, with Forge-shaped claims', async () => {
    const token = await forge.mintInvocationToken({ apiBaseUrl: 'https://api.example/ex/jira/1', context: { localId: 'x' } });
    const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(forge.jwksUrl)), {
      algorithms: ['RS256'],
      issuer: 'forge/invocation-token',
      audience: `ari:cloud:ecosystem::app/${APP_ID}`,
    });
    expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: forge.signingKey.kid });
    expect(payload).toMatchObject({
      principal: SAMPLE_FORGE_ACCOUNT_ID,
      context: { localId: 'x' },
      app: { id: `ari:cloud:ecosystem::app/${APP_ID}`, installationId: forge.installationId, apiBaseUrl: 'https://api.example/ex/jira/1', environment: { type: 'DEVELOPMENT' } },
    });
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(forge.jwks.fetches()).toBe(1);
  });

  it('rotates keys: the new kid signs, the old one stays listed unless retired', async () => {
    const old = forge.signingKey;
    const rotated = await forge.rotateKey();
    expect(decodeProtectedHeader(await forge.mintInvocationToken()).kid).toBe(rotated.kid);
    const listed = async () => ((await (await fetch(forge.jwksUrl)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(await listed()).toEqual([old.kid, rotated.kid]);
    await forge.rotateKey({ retire: true });
    expect(await listed()).not.toContain(rotated.kid);
  });

  it('makes the wrong tokens on request: none, HS256, removed claims', async () => {
    expect((await forge.mintInvocationToken({ alg: 'none' })).endsWith('.')).toBe(true);
    expect(decodeProtectedHeader(await forge.mintInvocationToken({ alg: 'HS256' })).alg).toBe('HS256');
    const token = await forge.mintInvocationToken({ principal: null, claims: { exp: undefined } });
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(payload).not.toHaveProperty('exp');
    expect(payload).not.toHaveProperty('principal');
  });

  it('invokes like Forge: Bearer FIT and the x-forge-oauth-* headers', async () => {
    let seen: { method?: string | undefined; url?: string | undefined; headers?: IncomingHttpHeaders; body?: string } = {};
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen = { method: req.method, url: req.url, headers: req.headers, body };
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect((await forge.invoke(base, { path: '/remote/x', systemToken: 'sys', userToken: 'usr', body: { a: 1 } })).status).toBe(204);
      expect(seen).toMatchObject({ method: 'POST', url: '/remote/x', body: '{"a":1}' });
      expect(seen.headers).toMatchObject({ 'x-forge-oauth-system': 'sys', 'x-forge-oauth-user': 'usr' });
      expect(seen.headers!.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
      await forge.invoke(base, { fit: null, method: 'GET' });
      expect(seen.headers).not.toHaveProperty('authorization');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
