import { decodeJwt, decodeProtectedHeader } from 'jose';
import { signConnectToken } from './sign-connect-token.js';
import { forgeSystemAccountId } from './fake-forge-api.js';
import { sleep } from './fake-http.js';
import { FakeProductApi } from './fake-product-api.js';
import { httpCall, type HttpCallResponse } from './http-call.js';

const INSTALLATION = 'ari:cloud:ecosystem::installation/6b1f3c0e-5a4d-4a61-9d8e-2a7f1f0c9b11';

function call(api: FakeProductApi, path: string, authorization?: string): Promise<HttpCallResponse> {
  return httpCall({ method: 'GET', url: api.origin + path, headers: authorization === undefined ? {} : { authorization } });
}

describe('FakeProductApi under the Forge apiBaseUrl', () => {
  let jira: FakeProductApi;
  let confluence: FakeProductApi;

  beforeAll(async () => {
    jira = await FakeProductApi.start({ product: 'jira', cloudId: 'cloud-1' });
    confluence = await FakeProductApi.start({ product: 'confluence' });
    jira.install({ appKey: 'com.example.app', clientKey: 'client-1', sharedSecret: 'secret-of-the-installation-0123456789' });
  });
  afterAll(async () => {
    await jira.close();
    await confluence.close();
  });
  beforeEach(() => {
    jira.reset();
    confluence.reset();
  });

  it('serves the REST API at /ex/<product>/<cloudId> for issued tokens, recording the principal', async () => {
    const tokens = jira.forge.issueTokens({ installationId: INSTALLATION, appId: 'app-1', accountId: 'user-7' });
    expect(tokens.apiBaseUrl).toBe(`${jira.origin}/ex/jira/cloud-1`);
    expect(jira.forge).toMatchObject({ cloudId: 'cloud-1', apiBaseUrl: tokens.apiBaseUrl });

    const asSystem = await call(jira, '/ex/jira/cloud-1/rest/api/3/myself', `Bearer ${tokens.systemToken}`);
    expect(asSystem.body).toMatchObject({ accountId: forgeSystemAccountId('app-1'), accountType: 'app' });
    const asUser = await call(jira, '/ex/jira/cloud-1/rest/api/3/project/search?maxResults=2&startAt=2', `Bearer ${tokens.userToken}`);
    expect(asUser.body).toMatchObject({ startAt: 2, maxResults: 2, values: [{ key: 'WEB' }, { key: 'MOB' }] });
    expect(jira.requests.map((r) => [r.status, r.forge, r.actingAs, r.headers.authorization])).toEqual([
      [200, { principal: 'system', installationId: INSTALLATION }, forgeSystemAccountId('app-1'), 'Bearer …'],
      [200, { principal: 'user', installationId: INSTALLATION }, 'user-7', 'Bearer …'],
    ]);
  });

  it('refuses anything but an issued, unrevoked Forge token with 401', async () => {
    const tokens = jira.forge.issueTokens({ installationId: INSTALLATION });
    const jwt = await signConnectToken({
      clientKey: 'com.example.app',
      sharedSecret: 'secret-of-the-installation-0123456789',
      method: 'GET',
      url: '/rest/api/3/myself',
      appBaseUrl: jira.baseUrl,
    });
    const path = '/ex/jira/cloud-1/rest/api/3/myself';
    expect((await call(jira, path)).status).toBe(401);
    expect((await call(jira, path, `JWT ${jwt}`)).status).toBe(401); // an app JWT is no Forge token
    expect((await call(jira, path, 'Bearer forge-system.made-up')).status).toBe(401);
    expect(jira.forge.revoke(tokens.systemToken)).toBe(true);
    expect((await call(jira, path, `Bearer ${tokens.systemToken}`)).status).toBe(401);
    expect(jira.refusals.map((r) => r.reason)).toEqual(['missing-credentials', 'missing-credentials', 'unknown-forge-token', 'revoked-forge-token']);
    // The app JWT still works on the site's own API, and a Forge token does not.
    expect((await call(jira, '/rest/api/3/myself', `JWT ${jwt}`)).status).toBe(200);
    expect((await call(jira, '/rest/api/3/myself', `Bearer ${tokens.userToken}`)).status).toBe(401);
    // Another cloud id is not this site's apiBaseUrl: the token is no good there.
    expect((await call(jira, '/ex/jira/cloud-2/rest/api/3/myself', `Bearer ${tokens.userToken}`)).status).toBe(401);
    expect(jira.refusals.at(-1)?.reason).toBe('unknown-access-token');
  });

  it('issues JWT-shaped system tokens whose exp the app can read (an hour by default)', () => {
    const before = Math.floor(Date.now() / 1000);
    const tokens = jira.forge.issueTokens({ installationId: INSTALLATION, appId: 'app-1' });
    expect(decodeProtectedHeader(tokens.systemToken)).toMatchObject({ alg: 'HS256', typ: 'JWT' });
    const claims = decodeJwt(tokens.systemToken);
    expect(claims.exp! - before).toBeGreaterThanOrEqual(3599);
    expect(claims.exp! - before).toBeLessThanOrEqual(3601);
    expect(tokens.systemTokenExpiresAt.getTime()).toBe(claims.exp! * 1000);
    expect(claims).toMatchObject({ sub: forgeSystemAccountId('app-1'), installationId: INSTALLATION });
    // Every issue is a new token, even within the same second.
    expect(jira.forge.issueTokens({ installationId: INSTALLATION }).systemToken).not.toBe(tokens.systemToken);
  });

  it('refuses a system token once it expired with 401 expired-forge-token, the user token still working', async () => {
    const path = '/ex/jira/cloud-1/rest/api/3/myself';
    const expired = jira.forge.issueTokens({ installationId: INSTALLATION, systemTokenExpiresIn: -1 });
    expect(decodeJwt(expired.systemToken).exp! * 1000).toBeLessThan(Date.now());
    const refused = await call(jira, path, `Bearer ${expired.systemToken}`);
    expect(refused.status).toBe(401);
    expect(JSON.stringify(refused.body)).toMatch(/expired/);
    expect((await call(jira, path, `Bearer ${expired.userToken}`)).status).toBe(200);

    // A saved token that works now and stops working at its exp.
    const saved = jira.forge.issueTokens({ installationId: INSTALLATION, systemTokenExpiresIn: 1 });
    expect((await call(jira, path, `Bearer ${saved.systemToken}`)).status).toBe(200);
    await sleep(saved.systemTokenExpiresAt.getTime() - Date.now() + 20);
    expect((await call(jira, path, `Bearer ${saved.systemToken}`)).status).toBe(401);
    expect(jira.refusals.map((r) => r.reason)).toEqual(['expired-forge-token', 'expired-forge-token']);
    // Revoking still says revoked, whatever the expiry.
    const revoked = jira.forge.issueTokens({ installationId: INSTALLATION, systemTokenExpiresIn: -5 });
    jira.forge.revoke(revoked.systemToken);
    expect((await call(jira, path, `Bearer ${revoked.systemToken}`)).status).toBe(401);
    expect(jira.refusals.at(-1)?.reason).toBe('revoked-forge-token');
    expect(() => jira.forge.issueTokens({ installationId: INSTALLATION, systemTokenExpiresIn: Number.NaN })).toThrow(TypeError);
  });

  it('answers Confluence with and without the /wiki context path, with a _links.next that resolves under apiBaseUrl', async () => {
    const tokens = confluence.forge.issueTokens({ installationId: INSTALLATION });
    const base = new URL(tokens.apiBaseUrl).pathname;
    const first = await call(confluence, `${base}/wiki/rest/api/space?limit=3`, `Bearer ${tokens.userToken}`);
    const next = (first.body as { _links: { next: string } })._links.next;
    expect(next).toBe('/rest/api/space?start=3&limit=3');
    const second = await call(confluence, `${base}${next}`, `Bearer ${tokens.userToken}`);
    expect(second.body).toMatchObject({ start: 3, size: 3 });
    expect(confluence.refusals).toEqual([]);
  });
});
