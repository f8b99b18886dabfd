import { Controller, Get, HttpCode, Injectable, Post, UseGuards } from '@nestjs/common';
import {
  ConnectAuth,
  ConnectAuthGuard,
  ConnectAuthMetadata,
  ConnectContext,
  ForgeAuthGuard,
  ForgeAuthMetadata,
  ForgeContext,
  type ConnectAuthOptions,
  type ConnectRequestContext,
  type ForgeAuthOptions,
  type ForgeInvocationContext,
  type ResolvedConnectApp,
} from 'atlassian-connect-nest';
import type { HttpRequestFacts } from 'atlassian-connect-nest/advanced';
import { FakeForgeHost, httpCall, type FakeSite } from 'atlassian-connect-nest/testing';
import { FIXTURE_JIRA_KEY } from './fixtures/two-product-app.js';
import { startFixtureApp, type RunningApp } from './support/fixture-app.js';

// Extension by subclassing is supported: `@ConnectAuthMetadata()` / `@ForgeAuthMetadata()` carry the
// options, `@UseGuards(YourGuard)` runs a subclass whose protected steps are overridden.

const JIRA_FORGE_APP_ID = '3a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const CONFLUENCE_FORGE_APP_ID = '5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a';

/** Routes `/legacy/...` (a path under no app's baseUrl) to the Jira app, and notes every app it chose. */
@Injectable()
class LegacyPathConnectAuthGuard extends ConnectAuthGuard {
  static readonly chosen: string[] = [];

  protected override appOf(options: ConnectAuthOptions, facts: HttpRequestFacts): ResolvedConnectApp {
    const app = facts.rawUrl.startsWith('/legacy/') ? this.registry.get(FIXTURE_JIRA_KEY)! : super.appOf(options, facts);
    LegacyPathConnectAuthGuard.chosen.push(app.key);
    return app;
  }
}

/** Takes Forge calls for the Jira app only, whatever the route's metadata says. */
@Injectable()
class JiraOnlyForgeAuthGuard extends ForgeAuthGuard {
  protected override optionsOf(): ForgeAuthOptions {
    return { app: FIXTURE_JIRA_KEY };
  }
}

const whoami = (ctx: ConnectRequestContext) => ({ app: ctx.app.key, clientKey: ctx.clientKey, contextToken: ctx.contextToken });

@Controller('legacy')
class LegacyController {
  @Get('whoami')
  @ConnectAuthMetadata()
  @UseGuards(LegacyPathConnectAuthGuard)
  whoami(@ConnectContext() ctx: ConnectRequestContext) {
    return whoami(ctx);
  }

  @Get('panel')
  @ConnectAuthMetadata({ qsh: 'context' })
  @UseGuards(LegacyPathConnectAuthGuard)
  panel(@ConnectContext() ctx: ConnectRequestContext) {
    return whoami(ctx);
  }

  /** The stock decorator on the same kind of path: no app owns it. */
  @Get('stock')
  @ConnectAuth()
  stock(@ConnectContext() ctx: ConnectRequestContext) {
    return whoami(ctx);
  }
}

@Controller('forge/jira-only')
class JiraOnlyForgeController {
  @Post('hello')
  @HttpCode(200)
  @ForgeAuthMetadata()
  @UseGuards(JiraOnlyForgeAuthGuard)
  hello(@ForgeContext() forge: ForgeInvocationContext) {
    return { app: forge.app.key };
  }
}

describe('guards extended by subclassing', () => {
  let forge: FakeForgeHost;
  let running: RunningApp;
  let site: FakeSite;

  beforeAll(async () => {
    forge = await FakeForgeHost.start({ appId: JIRA_FORGE_APP_ID });
    running = await startFixtureApp({
      controllers: [LegacyController, JiraOnlyForgeController],
      forgeAppIds: { jira: JIRA_FORGE_APP_ID, confluence: CONFLUENCE_FORGE_APP_ID },
      connect: { forge: { jwksUrl: forge.jwksUrl } },
    });
    site = running.host.newSite('jira');
    expect((await running.host.install(running.jira, site)).status).toBe(204);
  });

  afterAll(async () => {
    await running?.close();
    await forge?.close();
  });

  const get = async (path: string, token?: string) => running.host.send(running.jira, 'GET', path, token === undefined ? {} : { headers: { authorization: `JWT ${token}` } });

  it('runs the overridden step: a path under no baseUrl authenticates as the app the subclass chose', async () => {
    LegacyPathConnectAuthGuard.chosen.length = 0;
    const response = await get('/legacy/whoami', await running.host.tokenFor(running.jira, site, 'GET', '/legacy/whoami'));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ app: FIXTURE_JIRA_KEY, clientKey: site.clientKey, contextToken: false });
    expect(LegacyPathConnectAuthGuard.chosen).toEqual([FIXTURE_JIRA_KEY]);
  });

  it('keeps every other step: typed 401s, the qsh bound to the request, context tokens only where the metadata allows them', async () => {
    const missing = await get('/legacy/whoami');
    expect({ status: missing.status, type: (missing.body as { type?: string }).type }).toEqual({ status: 401, type: 'jwt/missing' });
    expect(missing.headers['www-authenticate']).toBe(`JWT realm="${FIXTURE_JIRA_KEY}"`);

    const otherRequest = await get('/legacy/whoami', await running.host.tokenFor(running.jira, site, 'GET', '/legacy/panel'));
    expect({ status: otherRequest.status, type: (otherRequest.body as { type?: string }).type }).toEqual({ status: 401, type: 'jwt/invalid-qsh' });

    const contextToken = await running.host.tokenFor(running.jira, site, 'GET', '/legacy/panel', { qsh: 'context' });
    expect((await get('/legacy/whoami', contextToken)).status).toBe(401);
    const panel = await get('/legacy/panel', contextToken);
    expect(panel.status).toBe(200);
    expect(panel.body).toMatchObject({ app: FIXTURE_JIRA_KEY, contextToken: true });
  });

  it('the stock guard on such a path finds no app (so the 200 above is the override at work)', async () => {
    const response = await get('/legacy/stock', await running.host.tokenFor(running.jira, site, 'GET', '/legacy/stock'));
    expect({ status: response.status, type: (response.body as { type?: string }).type }).toEqual({ status: 404, type: 'jwt/unknown-app' });
  });

  it('a ForgeAuthGuard subclass pins the route to one app: its FITs pass, the other app is refused', async () => {
    const url = `${running.url}/forge/jira-only/hello`;
    const ok = await forge.invoke(url, { body: {} });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ app: FIXTURE_JIRA_KEY });
    const other = await forge.invoke(url, { body: {}, token: { appId: CONFLUENCE_FORGE_APP_ID } });
    expect({ status: other.status, type: (other.body as { type?: string }).type }).toEqual({ status: 401, type: 'forge/invalid-aud' });
    const none = await httpCall({ method: 'POST', url, body: {} });
    expect({ status: none.status, type: (none.body as { type?: string }).type }).toEqual({ status: 401, type: 'forge/missing-token' });
  });
});
