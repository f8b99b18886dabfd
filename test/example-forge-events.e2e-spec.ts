/**
 * The example app's Forge handlers (src/example/forge/): an installed event, a product event, the
 * `hourly-sync` scheduled trigger calling Jira with the saved token, the background job calling every
 * active installation outside any request, and preUninstall; on the suite's adapter and engine.
 */
import { randomUUID } from 'node:crypto';
import { FakeConnectHost, FakeForgeHost, forgeSystemAccountId, type FakeApiSite } from 'atlassian-connect-nest/testing';
import { ForgeInstallations } from 'atlassian-connect-nest';
import { JIRA_APP_KEY } from '../src/example/app.module.js';
import { ForgeBackgroundSync } from '../src/example/forge/forge-background-sync.js';
import { ExampleForgeEvents } from '../src/example/forge/forge-event-handlers.js';
import { startExample, type RunningExample } from './support/example-app.js';

const FORGE_APP_ID = randomUUID();

describe('the example app’s Forge events, trigger and background job', () => {
  let host: FakeConnectHost;
  let forge: FakeForgeHost;
  let ex: RunningExample;
  let site: FakeApiSite;

  beforeAll(async () => {
    host = await FakeConnectHost.start();
    forge = await FakeForgeHost.start({ appId: FORGE_APP_ID });
    ex = await startExample({ forgeAppIdJira: FORGE_APP_ID, forgeJwksUrl: forge.jwksUrl, forgeSyncIntervalMs: 0 }, host);
    site = await host.startSite('jira');
  });
  afterAll(async () => {
    await ex?.close();
    await host?.close(); // given to startExample, so not closed by it
    await forge?.close();
  });

  const events = (path = '') => `${ex.url}/jira/forge/events${path}`;
  const install = (expiresIn?: number) => {
    const installationId = `ari:cloud:ecosystem::installation/${randomUUID()}`;
    const tokens = site.forge.issueTokens({ installationId, appId: FORGE_APP_ID, ...(expiresIn !== undefined && { systemTokenExpiresIn: expiresIn }) });
    return { tokens, token: { installationId, apiBaseUrl: tokens.apiBaseUrl, context: { cloudId: tokens.cloudId, siteUrl: 'https://example-events.atlassian.net' } } };
  };
  const activityOf = (installationId: string) =>
    ex.app
      .get(ExampleForgeEvents)
      .recent()
      .find((entry) => entry.installationId === installationId);

  it('installed → product event → scheduled trigger (saved token) → background job → preUninstall', async () => {
    const { tokens, token } = install();
    expect((await forge.sendInstalledEvent(events(), { token, systemToken: tokens.systemToken })).attempts.map((a) => a.status)).toEqual([200]);
    expect(activityOf(token.installationId)).toMatchObject({ app: JIRA_APP_KEY, what: 'avi:forge:installed:app' });

    const created = await forge.sendEvent(events(), 'avi:jira:created:issue', { issue: { key: 'EX-7' } }, { token });
    expect(created.attempts[0]!.body).toEqual({ status: 'done', handlers: 1 });
    expect(activityOf(token.installationId)).toMatchObject({ what: 'avi:jira:created:issue EX-7' });

    site.api.reset();
    const trigger = await forge.runScheduledTrigger(events('/scheduled'), 'hourly-sync', { token });
    expect(trigger.attempts[0]!.body).toEqual({ status: 'done', handlers: 1 });
    expect(activityOf(token.installationId)).toMatchObject({ what: 'scheduled hourly-sync', calledAs: forgeSystemAccountId(FORGE_APP_ID) });
    expect(site.api.requests.at(-1)).toMatchObject({ status: 200, auth: 'bearer', forge: { principal: 'system', installationId: token.installationId } });

    // No request in flight: the job finds the installation and calls it with the saved token.
    site.api.reset();
    const report = await ex.app.get(ForgeBackgroundSync).runOnce();
    expect(report.called).toContain(token.installationId);
    expect(report.failed).toEqual([]);
    expect(site.api.requests.some((request) => request.forge?.installationId === token.installationId && request.status === 200)).toBe(true);
    expect(activityOf(token.installationId)).toMatchObject({ what: 'background sync' });

    expect((await forge.runPreUninstall(events('/pre-uninstall'), 'goodbye', { token })).attempts.map((a) => a.status)).toEqual([200]);
    expect(activityOf(token.installationId)).toMatchObject({ what: 'preUninstall' });
    expect((await ex.app.get(ForgeBackgroundSync).runOnce()).called).not.toContain(token.installationId);
  });

  it('an installation whose saved token expired waits for the next trigger instead of failing', async () => {
    const { tokens, token } = install(-60);
    await forge.sendInstalledEvent(events(), { token, systemToken: tokens.systemToken });
    expect((await ex.app.get(ForgeInstallations).get(JIRA_APP_KEY, token.installationId))?.systemTokenExpiresAt?.getTime()).toBeLessThan(Date.now());
    const report = await ex.app.get(ForgeBackgroundSync).runOnce();
    expect(report.waiting).toContain(token.installationId);
    expect(report.called).not.toContain(token.installationId);
  });
});
