/**
 * A Forge-only app (`connect: false`): a Forge Remote backend with no Connect part, on the suite's
 * adapter and engine. No descriptor and no Connect lifecycle routes are served; FIT-verified routes,
 * Forge events, installation records, saved system tokens and calls outside a request all work.
 */
import { randomUUID } from 'node:crypto';
import { Controller, HttpCode, Injectable, Module, Post, type INestApplication } from '@nestjs/common';
import {
  ConnectClient,
  ConnectModule,
  FORGE_INSTALLED_EVENT,
  ForgeAuth,
  ForgeContext,
  ForgeInstallations,
  OnForgeEvent,
  type ForgeEventContext,
  type ForgeInvocationContext,
} from 'atlassian-connect-nest';
import { FakeConnectHost, FakeForgeHost, httpCall, startTestDatabase, type FakeApiSite } from 'atlassian-connect-nest/testing';
import { createTestApp } from './support/http-adapter.js';

const FORGE_APP_ID = randomUUID();
const APP_KEY = 'com.test.forge-only';
const BASE_URL = 'https://forge-only.example.test/remote';

@Injectable()
class InstalledEvents {
  readonly seen: string[] = [];

  @OnForgeEvent(FORGE_INSTALLED_EVENT)
  installed(event: ForgeEventContext): void {
    this.seen.push(`${event.app.key} ${event.forge.installationId} recorded=${event.installation?.installationId === event.forge.installationId}`);
  }
}

@Controller('remote/api')
class RemoteController {
  @Post('hello')
  @HttpCode(200)
  @ForgeAuth()
  hello(@ForgeContext() forge: ForgeInvocationContext) {
    return { app: forge.app.key, connect: forge.app.connect, installationId: forge.installationId };
  }
}

describe('a Forge-only app (connect: false)', () => {
  let app: INestApplication;
  let host: FakeConnectHost;
  let forge: FakeForgeHost;
  let site: FakeApiSite;
  let via: string;
  let stopDatabase: () => Promise<void>;

  beforeAll(async () => {
    host = await FakeConnectHost.start();
    forge = await FakeForgeHost.start({ appId: FORGE_APP_ID });
    const db = process.env.DATABASE_URL ? await startTestDatabase() : undefined;
    stopDatabase = async () => db?.stop();
    @Module({
      imports: [
        ConnectModule.forRoot({
          apps: [{ key: APP_KEY, product: 'jira', baseUrl: BASE_URL, connect: false, forge: { appId: FORGE_APP_ID } }],
          forge: { jwksUrl: forge.jwksUrl },
          retention: { schedule: false },
          database: db ? { url: db.url, schema: db.schema, poolSize: db.poolSize } : { embeddedDataDir: 'memory' },
        }),
      ],
      controllers: [RemoteController],
      providers: [InstalledEvents],
    })
    class ForgeOnlyModule {}
    app = await createTestApp(ForgeOnlyModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    via = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    site = await host.startSite('jira');
  });

  afterAll(async () => {
    await app?.close();
    await host?.close();
    await forge?.close();
    await stopDatabase?.();
  });

  function newInstallation() {
    const installationId = `ari:cloud:ecosystem::installation/${randomUUID()}`;
    const tokens = site.forge.issueTokens({ installationId, appId: FORGE_APP_ID });
    return { tokens, token: { installationId, apiBaseUrl: tokens.apiBaseUrl, context: { cloudId: tokens.cloudId, siteUrl: 'https://forge-only.atlassian.net' } } };
  }

  it('serves no descriptor and no Connect lifecycle route', async () => {
    expect((await httpCall({ url: `${via}/remote/atlassian-connect.json`, method: 'GET' })).status).toBe(404);
    for (const path of ['installed', 'uninstalled', 'enabled', 'disabled']) {
      const response = await httpCall({ url: `${via}/remote/${path}`, method: 'POST', body: { key: APP_KEY, clientKey: 'c' } });
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
    }
  });

  it('takes a verified Forge call, records its installation and saves its system token for later', async () => {
    const { tokens, token } = newInstallation();
    const response = await forge.invoke(`${via}/remote/api/hello`, { token, systemToken: tokens.systemToken });
    expect({ status: response.status, body: response.body }).toEqual({ status: 200, body: { app: APP_KEY, connect: false, installationId: token.installationId } });
    const recorded = await app.get(ForgeInstallations).get(APP_KEY, token.installationId);
    expect(recorded).toMatchObject({ appKey: APP_KEY, cloudId: tokens.cloudId, siteUrl: 'https://forge-only.atlassian.net', connectClientKey: null });
    expect(recorded?.systemTokenExpiresAt?.getTime()).toBeGreaterThan(Date.now());

    // Outside any request: the saved token calls the product (the app has one Forge app, so the id alone names it).
    site.api.reset();
    const me = await app.get(ConnectClient).asForgeApp(token.installationId).get<{ accountType?: string }>('/rest/api/3/myself');
    expect(me.accountType).toBe('app');
    expect(site.api.requests).toHaveLength(1);
    expect(site.api.requests[0]).toMatchObject({ status: 200, forge: { principal: 'system', installationId: token.installationId } });
  });

  it('refuses a call without a FIT with a typed 401', async () => {
    const response = await httpCall({ url: `${via}/remote/api/hello`, method: 'POST', body: {} });
    expect({ status: response.status, type: (response.body as { type?: string }).type }).toEqual({ status: 401, type: 'forge/missing-token' });
  });

  it('serves Forge events under its base path: an installed event records the installation before the handler runs', async () => {
    const { tokens, token } = newInstallation();
    const report = await forge.sendInstalledEvent(`${via}/remote/forge/events`, { token, systemToken: tokens.systemToken, retries: 0 });
    expect(report.attempts.map((attempt) => [attempt.status, attempt.body])).toEqual([[200, { status: 'done', handlers: 1 }]]);
    expect(app.get(InstalledEvents).seen).toContain(`${APP_KEY} ${token.installationId} recorded=true`);
    const listed = [];
    for await (const installation of app.get(ForgeInstallations).list(APP_KEY, { active: true })) listed.push(installation.installationId);
    expect(listed).toContain(token.installationId);
  });
});
