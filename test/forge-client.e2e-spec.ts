import { randomUUID } from 'node:crypto';

import { Body, Controller, Get, HttpCode, Module, Post, type INestApplication } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  ConnectAuth,
  ConnectClient,
  ConnectClientError,
  ConnectContext,
  CONNECT_DATA_SOURCE,
  CONNECT_DEFAULTS,
  ConnectForgeLink,
  ConnectModule,
  ForgeInstallations,
  ForgeAuth,
  ForgeContext,
  type ConnectRequestContext,
  type ForgeInvocationContext,
} from 'atlassian-connect-nest';
import {
  FakeConnectHost,
  FakeForgeHost,
  forgeSystemAccountId,
  LOOPBACK_HOST_PATTERNS,
  startTestDatabase,
  type FakeApiSite,
  type FakeForgeTokens,
  type FakeSite,
  type HttpCallResponse,
} from 'atlassian-connect-nest/testing';
import { createTestApp } from './support/http-adapter.js';
import { LogCapture } from './support/log-capture.js';

const JIRA_FORGE_APP_ID = randomUUID();
const CONFLUENCE_FORGE_APP_ID = randomUUID();
const jiraApp = { key: 'com.test.forge-client.jira', product: 'jira' as const, baseUrl: 'https://forge-client.example.test/jira' };
const confluenceApp = { key: 'com.test.forge-client.confluence', product: 'confluence' as const, baseUrl: 'https://forge-client.example.test/confluence' };
/** The suite installs startSite() sites (loopback) and a newSite() one (an Atlassian domain). */
const SITE_HOSTS = [...CONNECT_DEFAULTS.apps.allowedHostPatterns, ...LOOPBACK_HOST_PATTERNS];

interface CallRequest {
  as: 'app' | 'user';
  url: string;
  method?: 'GET' | 'POST';
  query?: Record<string, string | number>;
  paginate?: boolean;
}

/** Forge Remote routes that call the product back with the Forge tokens, and read the Connect link. */
@Controller('forge')
class ForgeCallsController {
  constructor(
    private readonly client: ConnectClient,
    private readonly link: ConnectForgeLink,
  ) {}

  @Post('call')
  @HttpCode(200)
  @ForgeAuth()
  async call(@ForgeContext() forge: ForgeInvocationContext, @Body() body: CallRequest) {
    const handle = body.as === 'user' ? this.client.asForgeUser(forge) : this.client.asForgeApp(forge);
    if (body.paginate) {
      const items: unknown[] = [];
      for await (const item of handle.paginate(body.url, { query: body.query })) items.push(item);
      return { items };
    }
    const response = await handle.request({ method: body.method ?? 'GET', url: body.url, query: body.query });
    return { status: response.status, retries: response.retries, body: response.body };
  }

  @Post('tenant')
  @HttpCode(200)
  @ForgeAuth()
  async tenant(@ForgeContext() forge: ForgeInvocationContext) {
    const tenant = await this.link.connectTenantOf(forge);
    return { appKey: tenant.appKey, clientKey: tenant.clientKey, baseUrl: tenant.baseUrl };
  }
}

/** The reverse direction, from a Connect request. */
@Controller('jira')
class ConnectLinkController {
  constructor(private readonly link: ConnectForgeLink) {}

  @Get('link')
  @ConnectAuth()
  async installation(@ConnectContext() ctx: ConnectRequestContext) {
    return { installationId: await this.link.installationIdOf(ctx) };
  }
}

describe('Forge outbound modes and the Connect↔Forge link', () => {
  const logs = new LogCapture();
  const responses: HttpCallResponse[] = [];
  let app: INestApplication;
  let host: FakeConnectHost;
  let forgeHost: FakeForgeHost;
  let jira: FakeApiSite;
  let confluence: FakeApiSite;
  let jiraTokens: FakeForgeTokens;
  let confluenceTokens: FakeForgeTokens;
  let via: string;
  let stopDatabase: () => Promise<void>;
  const started = Date.now();

  beforeAll(async () => {
    host = await FakeConnectHost.start();
    forgeHost = await FakeForgeHost.start({ appId: JIRA_FORGE_APP_ID });
    const db = process.env.DATABASE_URL ? await startTestDatabase() : undefined;
    stopDatabase = async () => db?.stop();
    @Module({
      imports: [
        ConnectModule.forRoot({
          apps: [
            { ...jiraApp, descriptor: { name: 'J' }, forge: { appId: JIRA_FORGE_APP_ID }, allowedHostPatterns: SITE_HOSTS },
            { ...confluenceApp, descriptor: { name: 'C' }, forge: { appId: CONFLUENCE_FORGE_APP_ID }, allowedHostPatterns: SITE_HOSTS },
          ],
          installKeysUrl: host.installKeysUrl,
          forge: { jwksUrl: forgeHost.jwksUrl },
          database: db ? { url: db.url, schema: db.schema, poolSize: db.poolSize } : { embeddedDataDir: 'memory' },
          client: { retry: { baseDelayMs: 20, maxDelayMs: 2000 } },
        }),
      ],
      controllers: [ForgeCallsController, ConnectLinkController],
    })
    class ForgeClientTestModule {}
    app = await createTestApp(ForgeClientTestModule, { logger: logs });
    await app.listen(0, '127.0.0.1');
    via = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    jira = await host.startSite('jira');
    confluence = await host.startSite('confluence');
    jiraTokens = jira.forge.issueTokens({ installationId: jira.installationId, appId: JIRA_FORGE_APP_ID });
    confluenceTokens = confluence.forge.issueTokens({ installationId: confluence.installationId, appId: CONFLUENCE_FORGE_APP_ID });
  });

  afterAll(async () => {
    await app?.close();
    await host?.close();
    await forgeHost?.close();
    await stopDatabase?.();
    // eslint-disable-next-line no-console
    console.info(`forge-client e2e on ${process.env.DATABASE_URL ? 'postgres' : 'embedded'}: ${Date.now() - started} ms`);
  });

  beforeEach(() => {
    jira.api.reset();
    confluence.api.reset();
  });

  /** A Forge Remote call to the app, as Forge makes it for the Jira (default) or Confluence app. */
  async function invoke(
    path: string,
    body: unknown,
    options: {
      tokens?: FakeForgeTokens;
      user?: boolean;
      system?: boolean;
      installationId?: string;
      appId?: string;
      license?: { isActive?: boolean; type?: string; isEvaluation?: boolean };
      context?: Record<string, unknown>;
    } = {},
  ): Promise<HttpCallResponse> {
    const tokens = options.tokens ?? jiraTokens;
    const response = await forgeHost.invoke(`${via}${path}`, {
      body,
      token: {
        appId: options.appId ?? JIRA_FORGE_APP_ID,
        installationId: options.installationId ?? tokens.installationId,
        apiBaseUrl: tokens.apiBaseUrl,
        principal: tokens.accountId,
        ...(options.license !== undefined && { license: options.license }),
        ...(options.context !== undefined && { context: options.context }),
      },
      ...(options.system !== false && { systemToken: tokens.systemToken }),
      ...(options.user !== false && { userToken: tokens.userToken }),
    });
    responses.push(response);
    return response;
  }

  const forgeRequests = (site: FakeApiSite) => site.api.requests.filter((request) => request.path.startsWith('/ex/'));

  describe('asForgeApp / asForgeUser', () => {
    it('asForgeApp calls apiBaseUrl with the system token (Bearer), relative URLs under its path', async () => {
      const response = await invoke('/forge/call', { as: 'app', url: '/rest/api/3/myself' });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 200, retries: 0, body: { accountId: forgeSystemAccountId(JIRA_FORGE_APP_ID), accountType: 'app' } });
      const seen = jira.api.requests.at(-1)!;
      expect(seen).toMatchObject({
        path: `/ex/jira/${jira.forge.cloudId}/rest/api/3/myself`,
        status: 200,
        auth: 'bearer',
        forge: { principal: 'system', installationId: jira.installationId },
      });
      expect(seen.headers.authorization).toBe('Bearer …');
      expect(jira.api.refusals).toEqual([]);
    });

    it('asForgeUser calls with the user token and acts as that user', async () => {
      const response = await invoke('/forge/call', { as: 'user', url: '/rest/api/3/myself' });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ body: { accountId: jiraTokens.accountId, accountType: 'atlassian' } });
      expect(jira.api.requests.at(-1)?.forge).toEqual({ principal: 'user', installationId: jira.installationId });
    });

    it('pages across 3 pages (Jira startAt, and Confluence _links.next under /wiki)', async () => {
      const projects = await invoke('/forge/call', { as: 'app', url: '/rest/api/3/project/search', paginate: true, query: { maxResults: 3 } });
      expect(projects.status).toBe(200);
      expect((projects.body as { items: { key: string }[] }).items.map((p) => p.key)).toEqual(['DEMO', 'OPS', 'WEB', 'MOB', 'API', 'DOC', 'QA']);
      expect(forgeRequests(jira).filter((r) => r.path.endsWith('/project/search'))).toHaveLength(3);
      expect(forgeRequests(jira).every((r) => r.forge?.principal === 'system')).toBe(true);

      const spaces = await invoke(
        '/forge/call',
        { as: 'user', url: '/wiki/rest/api/space', paginate: true, query: { limit: 3 } },
        { tokens: confluenceTokens, appId: CONFLUENCE_FORGE_APP_ID },
      );
      expect(spaces.status).toBe(200);
      expect((spaces.body as { items: unknown[] }).items).toHaveLength(7);
      const pages = forgeRequests(confluence).filter((r) => r.path.endsWith('/space'));
      expect(pages).toHaveLength(3);
      expect(pages.every((r) => r.status === 200 && r.forge?.principal === 'user')).toBe(true);
      expect(confluence.api.refusals).toEqual([]);
    });

    it('retries 429 with Retry-After, like the Connect modes', async () => {
      jira.api.failNext(2, { status: 429, retryAfter: 0.1 });
      const before = Date.now();
      const response = await invoke('/forge/call', { as: 'app', url: '/rest/api/3/myself' });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 200, retries: 2 });
      expect(Date.now() - before).toBeGreaterThanOrEqual(2 * 100 - 20);
      expect(jira.api.requests.map((r) => r.status)).toEqual([429, 429, 200]);
    });

    it('a non-2xx answer is a typed client error (502 at the edge) with the product message', async () => {
      const response = await invoke('/forge/call', { as: 'app', url: '/rest/api/3/no-such-thing' });
      expect(response.status).toBe(502);
      expect(response.body).toMatchObject({ type: 'client/http-error', message: expect.stringContaining('HTTP 404') });
    });

    it('refuses another origin, or a path outside apiBaseUrl, before anything is sent', async () => {
      const elsewhere = [
        `${confluence.forge.apiBaseUrl}/rest/api/space`, // another host:port
        'https://evil.example.com/rest/api/3/myself',
        '//evil.example.com/rest/api/3/myself',
      ];
      for (const url of elsewhere) {
        const response = await invoke('/forge/call', { as: 'app', url });
        expect([url, response.status, (response.body as { type: string }).type]).toEqual([url, 502, 'client/foreign-origin']);
      }
      // Same origin as apiBaseUrl, but not under it: the site's Connect API, or a path climbing out.
      for (const url of [`${jira.baseUrl}/rest/api/3/myself`, '/../../confluence/x/rest/api/space', '/%2e%2e/%2e%2e/other/rest/api/3/myself']) {
        const response = await invoke('/forge/call', { as: 'user', url });
        expect([url, response.status, (response.body as { type: string }).type]).toEqual([url, 502, 'client/invalid-request']);
      }
      expect(jira.api.requests).toEqual([]);
      expect(confluence.api.requests).toEqual([]);
    });

    it('a missing user token is a typed error naming the manifest setting; nothing is sent', async () => {
      const response = await invoke('/forge/call', { as: 'user', url: '/rest/api/3/myself' }, { user: false });
      expect(response.status).toBe(500);
      expect(response.body).toEqual({ type: 'client/forge-token', message: expect.stringContaining('auth.appUserToken: true') });
      const noSystem = await invoke('/forge/call', { as: 'app', url: '/rest/api/3/myself' }, { system: false });
      expect(noSystem.body).toEqual({ type: 'client/forge-token', message: expect.stringContaining('auth.appSystemToken: true') });
      expect(jira.api.requests).toEqual([]);
    });

    it('the fake gateway refuses unknown and revoked tokens with 401, and never takes Forge tokens on the Connect API', async () => {
      const stray = await invoke('/forge/call', { as: 'app', url: '/rest/api/3/myself' }, { tokens: { ...jiraTokens, systemToken: 'forge-system.not-issued' } });
      expect(stray.status).toBe(502);
      expect(stray.body).toMatchObject({ type: 'client/http-error', message: expect.stringContaining('HTTP 401') });
      expect(jira.api.refusals.at(-1)?.reason).toBe('unknown-forge-token');

      const client = app.get(ConnectClient);
      const revocable = jira.forge.issueTokens({ installationId: jira.installationId });
      jira.forge.revoke(revocable.systemToken);
      await expect(client.asForgeApp(revocable).get('/rest/api/3/myself')).rejects.toMatchObject({ code: 'client/http-error', status: 401 });
      expect(jira.api.refusals.at(-1)?.reason).toBe('revoked-forge-token');

      // A Forge token presented to the site's own (Connect) REST API is not an access token there.
      const connectSide = { ...jiraTokens, apiBaseUrl: jira.baseUrl };
      await expect(client.asForgeApp(connectSide).get('/rest/api/3/myself')).rejects.toMatchObject({ status: 401 });
      expect(jira.api.refusals.at(-1)?.reason).toBe('unknown-access-token');
    });

    it('refuses an apiBaseUrl that is not https (except on loopback) or carries credentials', () => {
      const client = app.get(ConnectClient);
      for (const apiBaseUrl of ['http://api.example.com/ex/jira/1', 'https://user:pw@api.atlassian.com/ex/jira/1', 'not a url', '']) {
        expect(() => client.asForgeApp({ apiBaseUrl, systemToken: 'sys', userToken: undefined })).toThrow(ConnectClientError);
      }
      expect(() => client.asForgeApp({ apiBaseUrl: 'https://api.atlassian.com/ex/jira/1', systemToken: 'sys', userToken: undefined })).not.toThrow();
    });
  });

  describe('the Connect↔Forge association', () => {
    const jiraHostApp = () => ({ ...jiraApp, via });

    async function connectTenantFor(installationId: string): Promise<HttpCallResponse> {
      return invoke('/forge/tenant', {}, { installationId });
    }

    async function reverse(site: FakeSite): Promise<HttpCallResponse> {
      const token = await host.tokenFor(jiraHostApp(), site, 'GET', '/jira/link');
      const response = await host.send(jiraHostApp(), 'GET', '/jira/link', { headers: { authorization: `JWT ${token}` } });
      responses.push(response);
      return response;
    }

    it('links the installationId of the signed install, moves it on re-install, drops it on uninstall', async () => {
      const link = app.get(ConnectForgeLink);
      const before = await connectTenantFor(jira.installationId);
      expect(before.status).toBe(404);
      expect(before.body).toMatchObject({ type: 'forge/unknown-installation' });

      expect((await host.install(jiraHostApp(), jira)).status).toBe(204);
      const linked = await connectTenantFor(jira.installationId);
      expect(linked.status).toBe(200);
      expect(linked.body).toEqual({ appKey: jiraApp.key, clientKey: jira.clientKey, baseUrl: jira.baseUrl });
      expect(await reverse(jira)).toMatchObject({ status: 200, body: { installationId: jira.installationId } });
      // The same installation id does not link another app's tenant.
      expect(await link.findConnectTenantOf({ app: { key: confluenceApp.key }, installationId: jira.installationId })).toBeNull();

      // A re-install whose signed payload names another installation: the latest signed install wins.
      const moved = { ...jira, installationId: `ari:cloud:ecosystem::installation/${randomUUID()}` };
      expect((await host.install(jiraHostApp(), moved)).status).toBe(204);
      expect((await connectTenantFor(jira.installationId)).status).toBe(404);
      expect(await connectTenantFor(moved.installationId)).toMatchObject({ status: 200, body: { clientKey: jira.clientKey } });
      expect(await reverse(moved)).toMatchObject({ status: 200, body: { installationId: moved.installationId } });

      // A payload whose installationId is not an installation ARI is refused and changes nothing.
      const bad = await host.install(jiraHostApp(), { ...moved, installationId: 'inst-42' });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ type: 'lifecycle/invalid-payload', message: expect.stringContaining('ari:cloud:ecosystem::installation/') });
      expect(await connectTenantFor(moved.installationId)).toMatchObject({ status: 200 });

      // Disabled, then uninstalled: no active tenant behind the installation.
      expect((await host.disable(jiraHostApp(), moved)).status).toBe(204);
      expect(await connectTenantFor(moved.installationId)).toMatchObject({ status: 404, body: { type: 'forge/unknown-installation' } });
      expect((await host.enable(jiraHostApp(), moved)).status).toBe(204);
      expect((await connectTenantFor(moved.installationId)).status).toBe(200);
      expect((await host.uninstall(jiraHostApp(), moved)).status).toBe(204);
      expect(await connectTenantFor(moved.installationId)).toMatchObject({ status: 404, body: { type: 'forge/unknown-installation' } });
      await expect(link.installationIdOf({ appKey: jiraApp.key, clientKey: jira.clientKey })).rejects.toMatchObject({ code: 'forge/unknown-installation' });

      // Installed again: linked again.
      expect((await host.install(jiraHostApp(), moved)).status).toBe(204);
      expect((await connectTenantFor(moved.installationId)).status).toBe(200);
      expect(await link.installationIdOf({ appKey: jiraApp.key, clientKey: jira.clientKey })).toBe(moved.installationId);
    });

    it('a Connect-only install (no installationId) has no Forge side', async () => {
      const site = host.newSite('jira');
      expect((await host.install(jiraHostApp(), site, { payload: { installationId: undefined } })).status).toBe(204);
      const response = await reverse(site);
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ type: 'forge/unknown-installation', message: expect.stringContaining('no Forge installation') });
    });
  });

  describe('Forge installations and saved app system tokens', () => {
    const jiraHostApp = () => ({ ...jiraApp, via });
    const dataSource = () => app.get<DataSource>(getDataSourceToken(CONNECT_DATA_SOURCE));
    const rawRow = async (installationId: string) =>
      (
        (await dataSource().query(`SELECT * FROM "connect_forge_installation" WHERE "app_key" = $1 AND "installation_id" = $2`, [jiraApp.key, installationId])) as Record<
          string,
          unknown
        >[]
      )[0];
    const newInstallation = () => `ari:cloud:ecosystem::installation/${randomUUID()}`;

    it('a verified call records its installation (site, product, environment, version, licence) and saves the system token encrypted', async () => {
      const installationId = newInstallation();
      const tokens = jira.forge.issueTokens({ installationId, appId: JIRA_FORGE_APP_ID });
      const siteUrl = 'https://recorded.atlassian.net';
      const answered = await invoke(
        '/forge/call',
        { as: 'app', url: '/rest/api/3/myself' },
        { tokens, license: { isActive: true, type: 'commercial', isEvaluation: false }, context: { cloudId: tokens.cloudId, siteUrl } },
      );
      expect(answered.status).toBe(200);

      const installations = app.get(ForgeInstallations);
      const recorded = await installations.get(jiraApp.key, installationId);
      expect(recorded).toMatchObject({
        appKey: jiraApp.key,
        installationId,
        cloudId: tokens.cloudId,
        siteUrl,
        apiBaseUrl: tokens.apiBaseUrl,
        product: 'jira',
        environment: { type: 'DEVELOPMENT', id: forgeHost.environmentId },
        appVersion: '1.0.0',
        license: { isActive: true, type: 'commercial', isEvaluation: false },
        uninstalledAt: null,
      });
      expect(recorded!.systemTokenExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 30 * 60_000);
      expect(await installations.byCloudId(jiraApp.key, tokens.cloudId)).toEqual(expect.arrayContaining([expect.objectContaining({ installationId })]));
      const listed: string[] = [];
      for await (const each of installations.list(jiraApp.key, { active: true, pageSize: 1 })) listed.push(each.installationId);
      expect(listed).toContain(installationId);
      expect(new Set(listed).size).toBe(listed.length);

      // At rest: the token is encrypted (bound to its row); the user token is never stored.
      const row = await rawRow(installationId);
      expect(String(row?.system_token)).toMatch(/^v1\./);
      expect(JSON.stringify(row)).not.toContain(tokens.systemToken);
      expect(JSON.stringify(row)).not.toContain(tokens.userToken);

      // A second identical call within the minute does not write again.
      const seen = row?.last_seen_at;
      expect(
        (
          await invoke(
            '/forge/call',
            { as: 'app', url: '/rest/api/3/myself' },
            { tokens, license: { isActive: true, type: 'commercial', isEvaluation: false }, context: { cloudId: tokens.cloudId, siteUrl } },
          )
        ).status,
      ).toBe(200);
      expect((await rawRow(installationId))?.last_seen_at).toEqual(seen);
      // A changed fact is written at once.
      expect(
        (await invoke('/forge/call', { as: 'app', url: '/rest/api/3/myself' }, { tokens, license: { isActive: false }, context: { cloudId: tokens.cloudId, siteUrl } })).status,
      ).toBe(200);
      expect(await installations.get(jiraApp.key, installationId)).toMatchObject({ license: { isActive: false, type: null, isEvaluation: null } });
    });

    it('asForgeApp({ appKey, installationId }) calls the product outside any request with the saved token', async () => {
      const installationId = newInstallation();
      const tokens = jira.forge.issueTokens({ installationId, appId: JIRA_FORGE_APP_ID });
      expect((await invoke('/forge/call', { as: 'app', url: '/rest/api/3/myself' }, { tokens, user: false })).status).toBe(200);
      jira.api.reset();

      // The request that brought the token has ended; a background job calls with what was saved.
      const client = app.get(ConnectClient);
      const myself = await client.asForgeApp({ appKey: jiraApp.key, installationId }).get('/rest/api/3/myself');
      expect(myself).toMatchObject({ accountId: forgeSystemAccountId(JIRA_FORGE_APP_ID) });
      expect(forgeRequests(jira).at(-1)).toMatchObject({ path: expect.stringContaining('/rest/api/3/myself'), forge: { principal: 'system', installationId } });
      // A ForgeInstallation is a target too.
      const recorded = (await app.get(ForgeInstallations).get(jiraApp.key, installationId))!;
      expect(await client.asForgeApp(recorded).get('/rest/api/3/myself')).toMatchObject({ accountId: forgeSystemAccountId(JIRA_FORGE_APP_ID) });
      // A bare installationId is ambiguous here: two apps have forge.appId.
      expect(() => client.asForgeApp(installationId)).toThrow(expect.objectContaining({ code: 'client/invalid-request' }));
      expect(() => client.asForgeApp({ appKey: 'com.not.configured', installationId })).toThrow(expect.objectContaining({ code: 'client/invalid-request' }));
    });

    it('an expired or missing saved token is client/forge-token-expired, naming the fix, and sends nothing', async () => {
      const installationId = newInstallation();
      const tokens = jira.forge.issueTokens({ installationId, appId: JIRA_FORGE_APP_ID });
      expect((await invoke('/forge/call', { as: 'app', url: '/rest/api/3/myself' }, { tokens })).status).toBe(200);
      await dataSource().query(`UPDATE "connect_forge_installation" SET "system_token_expires_at" = now() - interval '1 minute' WHERE "installation_id" = $1`, [installationId]);
      jira.api.reset();
      const client = app.get(ConnectClient);
      await expect(client.asForgeApp({ appKey: jiraApp.key, installationId }).get('/rest/api/3/myself')).rejects.toMatchObject({
        code: 'client/forge-token-expired',
        message: expect.stringContaining('scheduledTrigger'),
      });
      await expect(client.asForgeApp({ appKey: jiraApp.key, installationId: newInstallation() }).get('/rest/api/3/myself')).rejects.toMatchObject({
        code: 'client/forge-token-expired',
        message: expect.stringContaining('has been seen'),
      });
      expect(jira.api.requests).toEqual([]);
    });

    it('a saved token the product refuses (401) is dropped and never sent again', async () => {
      const installationId = newInstallation();
      const tokens = jira.forge.issueTokens({ installationId, appId: JIRA_FORGE_APP_ID });
      expect((await invoke('/forge/call', { as: 'app', url: '/rest/api/3/myself' }, { tokens })).status).toBe(200);
      jira.forge.revoke(tokens.systemToken);
      jira.api.reset();
      const client = app.get(ConnectClient);
      const handle = client.asForgeApp({ appKey: jiraApp.key, installationId });
      await expect(handle.get('/rest/api/3/myself')).rejects.toMatchObject({ code: 'client/forge-token-expired', status: 401, retries: 0 });
      expect(forgeRequests(jira)).toHaveLength(1);
      expect((await rawRow(installationId))?.system_token).toBeNull();
      await expect(handle.get('/rest/api/3/myself')).rejects.toMatchObject({ code: 'client/forge-token-expired' });
      await expect(client.asForgeApp({ appKey: jiraApp.key, installationId }).get('/rest/api/3/myself')).rejects.toMatchObject({ code: 'client/forge-token-expired' });
      expect(forgeRequests(jira)).toHaveLength(1);
    });

    it('a new installationId for the same cloudId (reinstall, site URL change) keeps the Connect link; the older one does not take it back', async () => {
      const site = await host.startSite('jira');
      {
        expect((await host.install(jiraHostApp(), site)).status).toBe(204);
        const first = site.forge.issueTokens({ installationId: site.installationId, appId: JIRA_FORGE_APP_ID });
        const context = { cloudId: first.cloudId };
        expect(await invoke('/forge/tenant', {}, { tokens: first, context })).toMatchObject({ status: 200, body: { clientKey: site.clientKey } });

        // Forge now calls with a new installationId for the same site; no Connect install names it.
        const second = site.forge.issueTokens({ installationId: newInstallation(), appId: JIRA_FORGE_APP_ID });
        expect(await invoke('/forge/tenant', {}, { tokens: second, context })).toMatchObject({ status: 200, body: { clientKey: site.clientKey } });
        expect(await app.get(ForgeInstallations).get(jiraApp.key, second.installationId)).toMatchObject({ connectClientKey: site.clientKey, cloudId: first.cloudId });
        // An installation of another site inherits nothing.
        const elsewhere = site.forge.issueTokens({ installationId: newInstallation(), appId: JIRA_FORGE_APP_ID });
        expect((await invoke('/forge/tenant', {}, { tokens: elsewhere, context: { cloudId: randomUUID() } })).status).toBe(404);

        // A signed Connect install that names the newer installation moves the tenant there; the first id then finds nothing.
        expect((await host.install(jiraHostApp(), { ...site, installationId: second.installationId })).status).toBe(204);
        expect(await invoke('/forge/tenant', {}, { tokens: second, context })).toMatchObject({ status: 200, body: { clientKey: site.clientKey } });
      }
    });
  });

  it('no Forge token appears in any response, error or log line', async () => {
    const client = app.get(ConnectClient);
    const error = (await client
      .asForgeUser(jiraTokens)
      .get('/rest/api/3/missing')
      .catch((e: unknown) => e)) as ConnectClientError;
    expect(error).toBeInstanceOf(ConnectClientError);
    const printed = `${error.message} ${String(error)} ${JSON.stringify(error)} ${JSON.stringify(error.toLogJSON())} ${error.stack}`;

    // The capture did see the run (retries are logged at debug level, 5xx answers as warnings).
    expect(logs.all).toContain('Retrying GET');
    expect(logs.all).toContain('client/forge-token');
    expect(responses.length).toBeGreaterThan(15);
    const places = [
      printed,
      ...logs.lines.map((line) => line.text),
      ...responses.flatMap((response) => [response.text, JSON.stringify(response.headers)]),
      ...[jira, confluence].flatMap((site) => site.api.requests.map((request) => JSON.stringify(request))),
    ];
    const tokens = [jiraTokens.systemToken, jiraTokens.userToken, confluenceTokens.systemToken, confluenceTokens.userToken];
    const leaks = places.filter((text) => tokens.some((token) => text.includes(token)) || /forge-(system|user)\.[A-Za-z0-9_-]{8}/.test(text));
    expect(leaks).toEqual([]);
  });
});
