import { ConnectTokenVerifier } from 'atlassian-connect-nest';
import { FakeConnectHost, type FakeSite } from 'atlassian-connect-nest/testing';
import { startFixtureApp, type RunningApp } from './support/fixture-app.js';

const WHOAMI = '/jira/api/whoami';
const CONTEXT_WHOAMI = '/jira/api/context/whoami';

/**
 * The verified-request cache through a real app (the two-product fixture): a repeated request is
 * answered without verifying its token again, but never once anything the verification depended on
 * has changed.
 */
describe('verified-request cache (fixture app)', () => {
  let ex: RunningApp;
  let verifier: ConnectTokenVerifier;

  beforeAll(async () => {
    ex = await startFixtureApp({ host: await FakeConnectHost.start() });
    verifier = ex.app.get(ConnectTokenVerifier, { strict: false });
  });
  afterAll(async () => {
    await ex?.close();
    await ex?.host.close();
  });

  const stats = () => verifier.verifiedRequestCacheStats()!;
  const get = (path: string, token: string, app = ex.jira) => ex.host.send(app, 'GET', path, { headers: { authorization: `JWT ${token}` } });
  const installed = async (): Promise<FakeSite> => {
    const site = ex.host.newSite('jira');
    expect((await ex.host.install(ex.jira, site)).status).toBe(204);
    return site;
  };
  const typeOf = (response: { body: unknown }) => (response.body as { type?: string }).type;

  it('answers a request seen twice from the cache, with the same body', async () => {
    const site = await installed();
    const token = await ex.host.tokenFor(ex.jira, site, 'GET', WHOAMI, { accountId: 'user-7' });
    const first = await get(WHOAMI, token);
    const before = stats();
    const second = await get(WHOAMI, token); // verified in full again, and now stored
    expect(stats()).toMatchObject({ hits: before.hits, size: before.size + 1 });
    const third = await get(WHOAMI, token);
    expect([first.status, second.status, third.status]).toEqual([200, 200, 200]);
    expect(third.body).toEqual(first.body);
    expect(third.body).toEqual({ clientKey: site.clientKey, accountId: 'user-7', productType: 'jira' });
    expect(stats().hits).toBe(before.hits + 1);
  });

  it('refuses a remembered token once a signed re-install rotated the secret, and serves the new one', async () => {
    const site = await installed();
    const old = await ex.host.tokenFor(ex.jira, site, 'GET', WHOAMI);
    for (let i = 0; i < 3; i++) expect((await get(WHOAMI, old)).status).toBe(200); // stored after the second
    const rotated = ex.host.rotateSecret(site);
    expect((await ex.host.install(ex.jira, rotated)).status).toBe(204);
    const refused = await get(WHOAMI, old);
    expect({ status: refused.status, type: typeOf(refused) }).toEqual({ status: 401, type: 'jwt/invalid-signature' });
    expect((await get(WHOAMI, await ex.host.tokenFor(ex.jira, rotated, 'GET', WHOAMI))).status).toBe(200);
  });

  it('refuses a remembered token while the app is disabled, serves it again once enabled, and refuses it after uninstall', async () => {
    const site = await installed();
    const token = await ex.host.tokenFor(ex.jira, site, 'GET', WHOAMI);
    for (let i = 0; i < 3; i++) expect((await get(WHOAMI, token)).status).toBe(200);
    expect((await ex.host.disable(ex.jira, site)).status).toBe(204);
    const disabled = await get(WHOAMI, token);
    expect({ status: disabled.status, type: typeOf(disabled) }).toEqual({ status: 401, type: 'jwt/tenant-inactive' });
    expect((await ex.host.enable(ex.jira, site)).status).toBe(204);
    expect((await get(WHOAMI, token)).status).toBe(200);
    expect((await ex.host.uninstall(ex.jira, site)).status).toBe(204);
    const gone = await get(WHOAMI, token);
    expect({ status: gone.status, type: typeOf(gone) }).toEqual({ status: 401, type: 'jwt/tenant-inactive' });
  });

  it('never recalls a request-bound token for another URL, nor a context token on a request-bound route', async () => {
    const site = await installed();
    const bound = await ex.host.tokenFor(ex.jira, site, 'GET', `${WHOAMI}?a=1`);
    for (let i = 0; i < 2; i++) expect((await get(`${WHOAMI}?a=1`, bound)).status).toBe(200);
    const elsewhere = await get(`${WHOAMI}?a=2`, bound);
    expect({ status: elsewhere.status, type: typeOf(elsewhere) }).toEqual({ status: 401, type: 'jwt/invalid-qsh' });

    const context = await ex.host.tokenFor(ex.jira, site, 'GET', CONTEXT_WHOAMI, { qsh: 'context' });
    for (let i = 0; i < 2; i++) expect((await get(CONTEXT_WHOAMI, context)).status).toBe(200);
    const before = stats();
    // A context token is good on any URL of a context route: recalled there too.
    expect((await get(`${CONTEXT_WHOAMI}?page=2`, context)).status).toBe(200);
    expect(stats().hits).toBe(before.hits + 1);
    const onBound = await get(WHOAMI, context);
    expect({ status: onBound.status, type: typeOf(onBound) }).toEqual({ status: 401, type: 'jwt/invalid-qsh' });
    // A URL with a jwt parameter of its own is verified in full: two different tokens are refused.
    const other = await ex.host.tokenFor(ex.jira, site, 'GET', CONTEXT_WHOAMI, { qsh: 'context', accountId: 'someone-else' });
    const doubled = await get(`${CONTEXT_WHOAMI}?jwt=${other}`, context);
    expect({ status: doubled.status, type: typeOf(doubled) }).toEqual({ status: 401, type: 'jwt/malformed' });
  });

  it('never recalls a token of one app on the other app', async () => {
    const site = await installed();
    const token = await ex.host.tokenFor(ex.jira, site, 'GET', CONTEXT_WHOAMI, { qsh: 'context' });
    for (let i = 0; i < 2; i++) expect((await get(CONTEXT_WHOAMI, token)).status).toBe(200);
    const onConfluence = await get('/confluence/api/context/whoami', token, ex.confluence);
    expect({ status: onConfluence.status, type: typeOf(onConfluence) }).toEqual({ status: 401, type: 'jwt/unknown-iss' });
  });

  it('remembers only successes: a refused token is checked again each time and adds nothing', async () => {
    const site = await installed();
    const token = await ex.host.tokenFor(ex.jira, site, 'GET', WHOAMI);
    const tampered = `${token.slice(0, -3)}${token.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    const before = stats();
    for (let i = 0; i < 3; i++) {
      const response = await get(WHOAMI, tampered);
      expect({ status: response.status, type: typeOf(response) }).toEqual({ status: 401, type: 'jwt/invalid-signature' });
    }
    expect(stats().size).toBe(before.size);
    expect(stats().hits).toBe(before.hits);
  });
});
