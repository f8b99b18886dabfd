import { randomUUID } from 'node:crypto';
import { getDataSourceToken } from '@nestjs/typeorm';
import { CONNECT_DATA_SOURCE, ConnectClient, ForgeInstallations } from 'atlassian-connect-nest';
import { FakeForgeHost, forgeSystemAccountId, type FakeApiSite } from 'atlassian-connect-nest/testing';
import type { DataSource } from 'typeorm';
import { FIXTURE_JIRA_KEY } from './fixtures/two-product-app.js';
import { startFixtureApp, type RunningApp } from './support/fixture-app.js';

const JIRA_FORGE_APP_ID = '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11';
const LIFETIME_SECONDS = 120;
const MARGIN_SECONDS = 100;

/**
 * `forge.systemTokenLifetimeSeconds` and `forge.systemTokenSafetyMarginSeconds` on a running app: the
 * saved token's expiry and when `asForgeApp` stops using it. A `ForgeInstallations` built without
 * options (the defaults: 55 minutes, 60 s) reads the same rows, to show that the options made the difference.
 */
describe('saved system tokens follow forge.systemTokenLifetimeSeconds and forge.systemTokenSafetyMarginSeconds', () => {
  let forge: FakeForgeHost;
  let ex: RunningApp;
  let site: FakeApiSite;
  let installations: ForgeInstallations;
  let withDefaults: ForgeInstallations;
  let dataSource: DataSource;
  const newInstallation = () => `ari:cloud:ecosystem::installation/${randomUUID()}`;

  beforeAll(async () => {
    forge = await FakeForgeHost.start({ appId: JIRA_FORGE_APP_ID });
    ex = await startFixtureApp({
      forgeAppIds: { jira: JIRA_FORGE_APP_ID },
      connect: { forge: { jwksUrl: forge.jwksUrl, systemTokenLifetimeSeconds: LIFETIME_SECONDS, systemTokenSafetyMarginSeconds: MARGIN_SECONDS } },
    });
    site = await ex.host.startSite('jira');
    installations = ex.app.get(ForgeInstallations);
    dataSource = ex.app.get<DataSource>(getDataSourceToken(CONNECT_DATA_SOURCE));
    withDefaults = new ForgeInstallations(dataSource);
  });
  afterAll(async () => {
    await ex?.close();
    await forge?.close();
  });

  /** A verified call of `installationId` that brings `systemToken` (saved by the guard). */
  async function call(installationId: string, systemToken: string): Promise<void> {
    const response = await forge.invoke(`${ex.url}/forge/remote/hello`, { systemToken, token: { installationId, apiBaseUrl: site.forge.apiBaseUrl } });
    expect(response.status).toBe(200);
  }

  it('a token without exp is saved for the configured lifetime, and handed out only until the margin before it', async () => {
    const installationId = newInstallation();
    const opaque = `opaque-system-token-${randomUUID()}`;
    const before = Date.now();
    await call(installationId, opaque);
    const saved = (await installations.get(FIXTURE_JIRA_KEY, installationId))!;
    const expiresAt = saved.systemTokenExpiresAt!.getTime();
    expect(expiresAt).toBeGreaterThanOrEqual(before + LIFETIME_SECONDS * 1000 - 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + LIFETIME_SECONDS * 1000 + 1000);

    expect((await installations.systemTokenOf(FIXTURE_JIRA_KEY, installationId))?.token).toBe(opaque);
    // Inside the 100 s margin, though more than the default 60 s before the expiry.
    const inMargin = expiresAt - (MARGIN_SECONDS - 10) * 1000;
    expect(await installations.systemTokenOf(FIXTURE_JIRA_KEY, installationId, inMargin)).toMatchObject({ token: undefined, expiresAt: saved.systemTokenExpiresAt });
    expect((await withDefaults.systemTokenOf(FIXTURE_JIRA_KEY, installationId, inMargin))?.token).toBe(opaque);
    expect((await installations.systemTokenOf(FIXTURE_JIRA_KEY, installationId, expiresAt - (MARGIN_SECONDS + 10) * 1000))?.token).toBe(opaque);
  });

  it('a token with exp keeps its own expiry; the margin still applies to it', async () => {
    const installationId = newInstallation();
    const tokens = site.forge.issueTokens({ installationId, appId: JIRA_FORGE_APP_ID, systemTokenExpiresIn: 3600 });
    await call(installationId, tokens.systemToken);
    const saved = (await installations.get(FIXTURE_JIRA_KEY, installationId))!;
    expect(saved.systemTokenExpiresAt).toEqual(tokens.systemTokenExpiresAt);
    const expiresAt = tokens.systemTokenExpiresAt.getTime();
    expect((await installations.systemTokenOf(FIXTURE_JIRA_KEY, installationId, expiresAt - (MARGIN_SECONDS + 1) * 1000))?.token).toBe(tokens.systemToken);
    expect((await installations.systemTokenOf(FIXTURE_JIRA_KEY, installationId, expiresAt - (MARGIN_SECONDS - 1) * 1000))?.token).toBeUndefined();
  });

  it('asForgeApp outside a request uses the saved token until the margin, then refuses without sending anything', async () => {
    const installationId = newInstallation();
    const tokens = site.forge.issueTokens({ installationId, appId: JIRA_FORGE_APP_ID, systemTokenExpiresIn: 3600 });
    await call(installationId, tokens.systemToken);
    const client = ex.app.get(ConnectClient);
    const target = { appKey: FIXTURE_JIRA_KEY, installationId };
    site.api.reset();
    expect(await client.asForgeApp(target).get('/rest/api/3/myself')).toMatchObject({ accountId: forgeSystemAccountId(JIRA_FORGE_APP_ID) });
    expect(site.api.requests.at(-1)).toMatchObject({ forge: { principal: 'system', installationId } });

    // 90 s left: more than the default margin, less than the configured one.
    const schema = (dataSource.options as { schema?: string }).schema;
    await dataSource.query(
      `UPDATE ${schema ? `"${schema}".` : ''}"connect_forge_installation" SET "system_token_expires_at" = now() + interval '90 seconds' WHERE "app_key" = $1 AND "installation_id" = $2`,
      [FIXTURE_JIRA_KEY, installationId],
    );
    site.api.reset();
    await expect(client.asForgeApp(target).get('/rest/api/3/myself')).rejects.toMatchObject({ code: 'client/forge-token-expired' });
    expect(site.api.requests).toEqual([]);
    expect((await withDefaults.systemTokenOf(FIXTURE_JIRA_KEY, installationId))?.token).toBe(tokens.systemToken);
  });
});
