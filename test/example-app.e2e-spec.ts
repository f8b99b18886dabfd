/**
 * The example app itself (src/example/), as `npm start` serves it: its descriptors, routes and lifecycle
 * log. What the framework does behind these routes is tested on the fixture apps of test/fixtures/; the
 * example's outbound routes in client.e2e-spec.ts, the command line against it in cli-*.e2e-spec.ts.
 */
import type { FakeSite } from 'atlassian-connect-nest/testing';
import { CONFLUENCE_APP_KEY, JIRA_APP_KEY } from '../src/example/app.module.js';
import { confluenceDescriptor } from '../src/example/confluence/confluence.descriptor.js';
import { jiraDescriptor } from '../src/example/jira/jira.descriptor.js';
import { PUBLIC_BASE_URL, startExample, type RunningExample } from './support/example-app.js';
import { LogCapture } from './support/log-capture.js';

describe('the example app', () => {
  const logs = new LogCapture();
  let ex: RunningExample;
  let jiraSite: FakeSite;
  let confluenceSite: FakeSite;

  beforeAll(async () => {
    ex = await startExample({}, undefined, logs);
    jiraSite = ex.host.newSite('jira');
    confluenceSite = ex.host.newSite('confluence');
    expect((await ex.host.install(ex.jira, jiraSite)).status).toBe(204);
    expect((await ex.host.install(ex.confluence, confluenceSite)).status).toBe(204);
  });
  afterAll(async () => {
    await ex?.close();
  });

  const signed = async (app: typeof ex.jira, site: FakeSite, path: string, accountId?: string) => {
    const token = await ex.host.tokenFor(app, site, 'GET', path, accountId === undefined ? {} : { accountId });
    return ex.host.send(app, 'GET', path, { headers: { authorization: `JWT ${token}` } });
  };

  it.each([
    ['jira', JIRA_APP_KEY, jiraDescriptor],
    ['confluence', CONFLUENCE_APP_KEY, confluenceDescriptor],
  ] as const)('serves the %s descriptor as authored, at <APP_BASE_URL>/<product>', async (product, key, authored) => {
    const response = await ex.host.send(product === 'jira' ? ex.jira : ex.confluence, 'GET', `/${product}/atlassian-connect.json`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      ...authored,
      key,
      baseUrl: `${PUBLIC_BASE_URL}/${product}`,
      authentication: { type: 'jwt' },
      lifecycle: { installed: '/installed', uninstalled: '/uninstalled', enabled: '/enabled', disabled: '/disabled' },
      apiMigrations: { 'signed-install': true, 'context-qsh': true },
    });
  });

  it('answers whoami (request-bound tokens) and context whoami (also context tokens) for each product', async () => {
    for (const [app, site, product] of [
      [ex.jira, jiraSite, 'jira'],
      [ex.confluence, confluenceSite, 'confluence'],
    ] as const) {
      const bound = await signed(app, site, `/${product}/api/whoami`, 'user-1');
      expect({ status: bound.status, body: bound.body }).toEqual({ status: 200, body: { clientKey: site.clientKey, accountId: 'user-1', productType: product } });
      const token = await ex.host.tokenFor(app, site, 'GET', '/ignored', { qsh: 'context' });
      const context = await ex.host.send(app, 'GET', `/${product}/api/context/whoami`, { headers: { authorization: `JWT ${token}` } });
      expect({ status: context.status, body: context.body }).toEqual({ status: 200, body: { clientKey: site.clientKey, accountId: null, productType: product } });
    }
  });

  it('serves its hello pages and the Confluence macro as HTML naming the app, the user and the site', async () => {
    const jira = await signed(ex.jira, jiraSite, '/jira/pages/hello?lic=none&cv=1', 'user-2');
    expect(jira.status).toBe(200);
    expect(String(jira.headers['content-type'])).toMatch(/^text\/html/);
    expect(jira.text).toContain('<h1>Hello from Jira</h1>');
    expect(jira.text).toContain(`Served by ${JIRA_APP_KEY} to user-2 on ${jiraSite.baseUrl}.`);
    expect(jira.text).toContain('<script src="https://connect-cdn.atl-paas.net/all.js" async></script>');
    const confluence = await signed(ex.confluence, confluenceSite, '/confluence/pages/hello');
    expect(confluence.text).toContain('<h1>Hello from Confluence</h1>');
    expect(confluence.text).toContain(`Served by ${CONFLUENCE_APP_KEY} to an anonymous user on ${confluenceSite.baseUrl}.`);
    const macro = await signed(ex.confluence, confluenceSite, '/confluence/macros/hello?pageId=7');
    expect(macro.status).toBe(200);
    expect(macro.text).toContain('<h1>Hello macro on page 7</h1>');
  });

  it('logs each lifecycle event through its InstallationLog', async () => {
    const site = ex.host.newSite('jira');
    expect((await ex.host.install(ex.jira, site)).status).toBe(204);
    expect((await ex.host.disable(ex.jira, site)).status).toBe(204);
    expect((await ex.host.enable(ex.jira, site)).status).toBe(204);
    expect((await ex.host.install(ex.jira, site)).status).toBe(204);
    expect((await ex.host.uninstall(ex.jira, site)).status).toBe(204);
    // LogCapture appends the logger's context to each line.
    const lines = logs.lines
      .filter((line) => line.text.endsWith(' InstallationLog') && line.text.includes(site.baseUrl))
      .map((line) => line.text.slice(0, -' InstallationLog'.length));
    expect(lines).toEqual([
      `New install of ${JIRA_APP_KEY} on ${site.baseUrl}.`,
      `${JIRA_APP_KEY} disabled on ${site.baseUrl}.`,
      `${JIRA_APP_KEY} enabled on ${site.baseUrl}.`,
      `Re-install of ${JIRA_APP_KEY} on ${site.baseUrl}.`,
      `${JIRA_APP_KEY} uninstalled from ${site.baseUrl}.`,
    ]);
  });

  it('serves no benchmark route (the bench adds its own, bench/bench-app.mjs)', async () => {
    const response = await ex.host.send(ex.jira, 'GET', '/jira/bench/bare');
    expect(response.status).toBe(404);
  });
});
