import { ConnectModule, ConnectAuth, ConnectContext, type ConnectRequestContext } from 'atlassian-connect-nest';
import { EmbeddedPostgres } from 'atlassian-connect-nest/advanced';
import { FakeConnectHost, signConnectToken, type FakeSite } from 'atlassian-connect-nest/testing';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { SignJWT } from 'jose';
import { LogCapture } from './support/log-capture.js';
import { FIXTURE_JIRA_KEY } from './fixtures/two-product-app.js';
import { startFixtureApp, type RunningApp } from './support/fixture-app.js';
import { createTestApp } from './support/http-adapter.js';

const WHOAMI = '/jira/api/whoami';

describe('@ConnectAuth() on the two-product fixture app', () => {
  const logs = new LogCapture();
  let ex: RunningApp;
  let site: FakeSite;

  beforeAll(async () => {
    const host = await FakeConnectHost.start();
    ex = await startFixtureApp({ host, logger: logs });
    site = ex.host.newSite('jira');
    expect((await ex.host.install(ex.jira, site)).status).toBe(204);
  });
  afterAll(async () => {
    await ex?.close();
    await ex?.host.close();
  });

  const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
    ex.host.send(ex.jira, 'GET', path, { headers: token === undefined ? headers : { authorization: `JWT ${token}`, ...headers } });

  function expect401(response: { status: number; body: unknown; headers: Record<string, unknown> }, type: string) {
    expect({ status: response.status, type: (response.body as { type?: string }).type }).toEqual({ status: 401, type });
    expect(typeof (response.body as { message?: unknown }).message).toBe('string');
    expect(response.headers['www-authenticate']).toBe(`JWT realm="${FIXTURE_JIRA_KEY}"`);
  }

  it('answers 200 with the verified context for a request-bound token', async () => {
    const token = await ex.host.tokenFor(ex.jira, site, 'GET', WHOAMI, { accountId: 'user-1' });
    const response = await get(WHOAMI, token);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ clientKey: site.clientKey, accountId: 'user-1', productType: 'jira' });
  });

  it('accepts the token in the jwt query parameter', async () => {
    const token = await ex.host.tokenFor(ex.jira, site, 'GET', `${WHOAMI}?a=1`);
    const response = await get(`${WHOAMI}?a=1&jwt=${token}`);
    expect(response.status).toBe(200);
  });

  it('binds the qsh to the query: another query string is refused', async () => {
    const token = await ex.host.tokenFor(ex.jira, site, 'GET', `${WHOAMI}?a=1`);
    expect401(await get(`${WHOAMI}?a=2&jwt=${token}`), 'jwt/invalid-qsh');
  });

  it('jwt/missing without a token', async () => {
    expect401(await get(WHOAMI), 'jwt/missing');
    expect401(await get(WHOAMI, undefined, { authorization: 'JWT ' }), 'jwt/missing');
  });

  it('jwt/malformed for garbage, oversized and doubled tokens', async () => {
    expect401(await get(WHOAMI, 'not-a-jwt'), 'jwt/malformed');
    expect401(await get(WHOAMI, 'a.b.c'), 'jwt/malformed');
    expect401(await get(WHOAMI, `${'a'.repeat(9000)}.b.c`), 'jwt/malformed');
    const one = await ex.host.tokenFor(ex.jira, site, 'GET', WHOAMI);
    const two = await ex.host.tokenFor(ex.jira, site, 'GET', WHOAMI, { accountId: 'other' });
    expect401(await get(`${WHOAMI}?jwt=${two}`, one), 'jwt/malformed');
  });

  it('jwt/unsupported-alg for anything but HS256', async () => {
    const { privateKey } = await (await import('atlassian-connect-nest/testing')).createInstallKeyPair();
    const rs = await new SignJWT({ iss: site.clientKey, exp: now() + 60, qsh: 'x' }).setProtectedHeader({ alg: 'RS256', kid: 'k' }).sign(privateKey);
    expect401(await get(WHOAMI, rs), 'jwt/unsupported-alg');
    const hs512 = await new SignJWT({ iss: site.clientKey, exp: now() + 60 }).setProtectedHeader({ alg: 'HS512' }).sign(new TextEncoder().encode(site.sharedSecret));
    expect401(await get(WHOAMI, hs512), 'jwt/unsupported-alg');
    const none = `${b64({ alg: 'none' })}.${b64({ iss: site.clientKey, exp: now() + 60 })}.`;
    expect401(await get(WHOAMI, none), 'jwt/unsupported-alg');
  });

  it('jwt/unknown-iss for a clientKey that never installed', async () => {
    const stranger = ex.host.newSite('jira');
    expect401(await get(WHOAMI, await ex.host.tokenFor(ex.jira, stranger, 'GET', WHOAMI)), 'jwt/unknown-iss');
  });

  it('jwt/invalid-signature for a token signed with another secret', async () => {
    const forged = await ex.host.tokenFor(ex.jira, { ...site, sharedSecret: 'wrong-secret' }, 'GET', WHOAMI);
    expect401(await get(WHOAMI, forged), 'jwt/invalid-signature');
  });

  it('jwt/expired past the leeway, accepted within it', async () => {
    expect401(await get(WHOAMI, await ex.host.tokenFor(ex.jira, site, 'GET', WHOAMI, { expiresIn: -31 })), 'jwt/expired');
    expect((await get(WHOAMI, await ex.host.tokenFor(ex.jira, site, 'GET', WHOAMI, { expiresIn: -10 }))).status).toBe(200);
  });

  it('jwt/not-yet-valid for nbf or iat beyond the leeway', async () => {
    const nbf = await ex.host.tokenFor(ex.jira, site, 'GET', WHOAMI, { claims: { nbf: now() + 120 } });
    expect401(await get(WHOAMI, nbf), 'jwt/not-yet-valid');
    const iat = await ex.host.tokenFor(ex.jira, site, 'GET', WHOAMI, { issuedAtOffset: 120, expiresIn: 300 });
    expect401(await get(WHOAMI, iat), 'jwt/not-yet-valid');
    const soon = await ex.host.tokenFor(ex.jira, site, 'GET', WHOAMI, { claims: { nbf: now() + 10 } });
    expect((await get(WHOAMI, soon)).status).toBe(200);
  });

  it('jwt/malformed when exp is missing', async () => {
    const token = await new SignJWT({ iss: site.clientKey, qsh: 'x' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(site.sharedSecret));
    expect401(await get(WHOAMI, token), 'jwt/malformed');
  });

  it('jwt/malformed for a payload or header that is not valid UTF-8, even when correctly signed', async () => {
    const valid = await ex.host.tokenFor(ex.jira, site, 'GET', WHOAMI, { accountId: 'user-1' });
    const [header, payload] = valid.split('.') as [string, string];
    const sign = (h: Buffer | string, p: Buffer | string) => {
      const input = `${Buffer.from(h).toString('base64url')}.${Buffer.from(p).toString('base64url')}`;
      return `${input}.${createHmac('sha256', site.sharedSecret).update(input).digest('base64url')}`;
    };
    const json = Buffer.from(payload, 'base64url').toString('utf8');
    const headerJson = Buffer.from(header, 'base64url').toString('utf8');
    // The same bytes re-signed are accepted: the signing here is right.
    expect((await get(WHOAMI, sign(headerJson, json))).status).toBe(200);
    // A byte 0xFF inside sub: a lenient decoder would read "user-1\uFFFD" and let it through.
    const [before, after] = json.split('user-1') as [string, string];
    expect401(await get(WHOAMI, sign(headerJson, Buffer.concat([Buffer.from(before + 'user-1'), Buffer.from([0xff]), Buffer.from(after)]))), 'jwt/malformed');
    // An overlong encoding of "/" in the header's typ.
    expect401(await get(WHOAMI, sign(Buffer.concat([Buffer.from('{"alg":"HS256","typ":"JWT'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]), json)), 'jwt/malformed');
  });

  it('an aud on a request token must name this app: another is jwt/invalid-aud; this baseUrl (or one in a list) is fine', async () => {
    const withAud = async (aud: string | string[]) => get(WHOAMI, await ex.host.tokenFor(ex.jira, site, 'GET', WHOAMI, { claims: { aud } }));
    expect401(await withAud('https://someone-else.example.com/jira'), 'jwt/invalid-aud');
    expect401(await withAud(['https://someone-else.example.com', 'https://evil.example.com/jira']), 'jwt/invalid-aud');
    expect((await withAud(ex.jira.baseUrl)).status).toBe(200);
    expect((await withAud(`${ex.jira.baseUrl}/`)).status).toBe(200);
    expect((await withAud(['https://someone-else.example.com', ex.jira.baseUrl])).status).toBe(200);
  });

  it('jwt/malformed for nbf at or after exp, whatever the clock says', async () => {
    const exp = now() + 60;
    for (const nbf of [exp, exp + 1, now() - 30]) {
      const token = await ex.host.tokenFor(ex.jira, site, 'GET', WHOAMI, { claims: { exp, nbf } });
      if (nbf < exp) expect((await get(WHOAMI, token)).status).toBe(200);
      else expect401(await get(WHOAMI, token), 'jwt/malformed');
    }
  });

  it('jwt/invalid-qsh for another path, a missing qsh, and a context token on a request-bound route; logs the canonical request but no token', async () => {
    logs.clear();
    const wrongPath = await ex.host.tokenFor(ex.jira, site, 'GET', '/jira/api/other');
    const response = await get(WHOAMI, wrongPath);
    expect401(response, 'jwt/invalid-qsh');
    const line = logs.lines.find((entry) => entry.text.includes('qsh mismatch'));
    expect(line?.text).toContain('"GET&/api/whoami&"');
    expect(logs.all).not.toContain(wrongPath);
    expect(logs.all).not.toContain(site.sharedSecret);
    expect(JSON.stringify(response.body)).not.toContain('GET&');

    const noQsh = await signConnectToken({ clientKey: site.clientKey, sharedSecret: site.sharedSecret });
    expect401(await get(WHOAMI, noQsh), 'jwt/invalid-qsh');
    const context = await ex.host.tokenFor(ex.jira, site, 'GET', WHOAMI, { qsh: 'context' });
    expect401(await get(WHOAMI, context), 'jwt/invalid-qsh');
    const post = await ex.host.tokenFor(ex.jira, site, 'POST', WHOAMI);
    expect401(await get(WHOAMI, post), 'jwt/invalid-qsh');
  });

  it('accepts context tokens only where the route opts in', async () => {
    const context = await ex.host.tokenFor(ex.jira, site, 'GET', '/ignored', { qsh: 'context', accountId: 'u-2' });
    const response = await get('/jira/api/context/whoami', context);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ clientKey: site.clientKey, accountId: 'u-2', productType: 'jira' });
    // the opt-in relaxes nothing else
    const bound = await ex.host.tokenFor(ex.jira, site, 'GET', '/jira/api/context/whoami');
    expect((await get('/jira/api/context/whoami', bound)).status).toBe(200);
    const wrong = await ex.host.tokenFor(ex.jira, site, 'GET', '/jira/api/whoami');
    expect401(await get('/jira/api/context/whoami', wrong), 'jwt/invalid-qsh');
    const expired = await ex.host.tokenFor(ex.jira, site, 'GET', '/x', { qsh: 'context', expiresIn: -60 });
    expect401(await get('/jira/api/context/whoami', expired), 'jwt/expired');
  });

  it('jwt/tenant-inactive after uninstall', async () => {
    const leaving = ex.host.newSite('jira');
    expect((await ex.host.install(ex.jira, leaving)).status).toBe(204);
    const token = await ex.host.tokenFor(ex.jira, leaving, 'GET', WHOAMI);
    expect((await get(WHOAMI, token)).status).toBe(200);
    expect((await ex.host.uninstall(ex.jira, leaving)).status).toBe(204);
    expect401(await get(WHOAMI, token), 'jwt/tenant-inactive');
  });

  it('serves the page module with ?jwt= and a frame-ancestors policy for the site', async () => {
    const path = '/jira/pages/hello?lic=none&cp=&xdm_e=' + encodeURIComponent(site.baseUrl) + '&cv=1001.0.0';
    const token = await ex.host.tokenFor(ex.jira, site, 'GET', path, { accountId: 'page-user' });
    const response = await get(`${path}&jwt=${token}`);
    expect(response.status).toBe(200);
    expect(String(response.headers['content-type'])).toContain('text/html');
    expect(response.text).toContain('page-user');
    expect(response.headers['content-security-policy']).toBe(`frame-ancestors ${new URL(site.baseUrl).origin}`);
  });

  it('answers invalid JSON and oversized lifecycle bodies with typed errors', async () => {
    const headers = { 'content-type': 'application/json' };
    const broken = await ex.host.send(ex.jira, 'POST', '/jira/installed', { headers, body: '{"key": ' });
    expect({ status: broken.status, body: broken.body }).toEqual({ status: 400, body: { type: 'lifecycle/invalid-payload', message: expect.any(String) } });
    const huge = await ex.host.send(ex.jira, 'POST', '/jira/installed', { headers, body: JSON.stringify({ description: 'x'.repeat(200_000) }) });
    expect({ status: huge.status, type: (huge.body as { type?: string }).type }).toEqual({ status: 413, type: 'lifecycle/payload-too-large' });
    // other routes keep the adapter's own handling
    const other = await ex.host.send(ex.jira, 'POST', '/jira/api/whoami', { headers, body: '{' });
    expect(other.status).toBe(400);
  });

  it('calls a non-numeric iat malformed, not "not yet valid"', async () => {
    const token = await ex.host.tokenFor(ex.jira, site, 'GET', WHOAMI, { claims: { iat: 'yesterday' as unknown as number } });
    expect401(await get(WHOAMI, token), 'jwt/malformed');
  });

  it('never answers 500 to hostile tokens', async () => {
    const attempts = [
      `${b64({ alg: 'HS256' })}.${b64([1, 2])}.sig`,
      `${b64({ alg: 'HS256' })}.${Buffer.from('not json').toString('base64url')}.sig`,
      `${b64({ alg: 'HS256' })}.${b64({ iss: 42 })}.sig`,
      `${b64({ alg: 'HS256' })}.${b64({ iss: site.clientKey, exp: 'soon' })}.sig`,
      `${b64({ alg: 'HS256', crit: ['x'] })}.${b64({ iss: site.clientKey, exp: now() + 60 })}.sig`,
      `${b64({ alg: 'HS256' })}.${b64({ iss: '__proto__', exp: now() + 60 })}.sig`,
    ];
    for (const token of attempts) {
      const response = await get(WHOAMI, token);
      expect(response.status).toBe(401);
      expect((response.body as { type: string }).type).toMatch(/^jwt\//);
    }
  });
});

describe('tenant store outage', () => {
  @Controller()
  class ProbeController {
    @Get('jira/api/probe')
    @ConnectAuth()
    probe(@ConnectContext() context: ConnectRequestContext) {
      return { clientKey: context.clientKey };
    }
  }

  let app: INestApplication;
  let engine: EmbeddedPostgres;
  let host: FakeConnectHost;

  beforeAll(async () => {
    host = await FakeConnectHost.start();
    engine = await EmbeddedPostgres.start();
    @Module({
      imports: [
        ConnectModule.forRoot({
          apps: [{ product: 'jira', key: 'com.test.outage', baseUrl: 'https://outage.example.test/jira', descriptor: { name: 'Outage' } }],
          installKeysUrl: host.installKeysUrl,
          database: { url: engine.url, poolSize: 1, connectTimeoutMs: 500, queryTimeoutMs: 1000 },
          tenantCache: { ttlMs: 1 },
        }),
      ],
      controllers: [ProbeController],
    })
    class OutageModule {}
    app = await createTestApp(OutageModule, { logger: false });
    await app.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    await app?.close();
    await engine?.stop();
    await host?.close();
  });

  it('answers 503 with Retry-After (never 500, never a hang) when the database is gone', async () => {
    const { port } = app.getHttpServer().address() as { port: number };
    const target = { key: 'com.test.outage', product: 'jira' as const, baseUrl: 'https://outage.example.test/jira', via: `http://127.0.0.1:${port}` };
    const site = host.newSite('jira');
    expect((await host.install(target, site)).status).toBe(204);
    const token = await host.tokenFor(target, site, 'GET', '/jira/api/probe');
    expect((await host.send(target, 'GET', '/jira/api/probe', { headers: { authorization: `JWT ${token}` } })).status).toBe(200);
    expect((await host.send(target, 'GET', '/health')).status).toBe(200);

    await engine.stop();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const started = Date.now();
    const response = await host.send(target, 'GET', '/jira/api/probe', { headers: { authorization: `JWT ${token}` } });
    expect(response.status).toBe(503);
    expect(response.body).toEqual({ type: 'store/unavailable', message: expect.any(String) });
    expect(response.headers['retry-after']).toBeDefined();
    expect(Date.now() - started).toBeLessThan(5000);

    const health = await host.send(target, 'GET', '/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ database: 'down' });

    const install = await host.install(target, host.newSite('jira'));
    expect(install.status).toBe(503);
  });
});

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
