import { inspect } from 'node:util';
import { Controller, HttpCode, Post } from '@nestjs/common';
import { ForgeAuth, ForgeContext, type ForgeInvocationContext } from 'atlassian-connect-nest';
import { FakeForgeHost, type HttpCallResponse } from 'atlassian-connect-nest/testing';
import { FIXTURE_JIRA_KEY } from './fixtures/two-product-app.js';
import { startFixtureApp, type RunningApp } from './support/fixture-app.js';
import { LogCapture } from './support/log-capture.js';

const JIRA_FORGE_APP_ID = '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11';
const ROUTE = '/forge/test/isolated';

/** Shows what the verified invocation says about its cloud. */
@Controller('forge/test')
class IsolatedCloudEchoController {
  static last: ForgeInvocationContext | undefined;

  @Post('isolated')
  @HttpCode(200)
  @ForgeAuth()
  isolated(@ForgeContext() forge: ForgeInvocationContext) {
    IsolatedCloudEchoController.last = forge;
    return { app: forge.app.key, installationId: forge.installationId, icLabel: forge.icLabel ?? null, claimed: forge.claims.icLabel ?? null };
  }
}

function expect401(response: HttpCallResponse, type: string): void {
  expect({ status: response.status, type: (response.body as { type?: string }).type }).toEqual({ status: 401, type });
  expect(response.headers['www-authenticate']).toBe('Bearer realm="forge"');
}

/**
 * Two fake Forge hosts, each with its own JWKS server and RSA key: the production one (`forge.jwksUrl`)
 * and the Isolated Cloud "orange" (`forge.isolatedCloudJwksUrls.orange`). A FIT's `icLabel` chooses the
 * key set by configuration only.
 */
describe('Isolated Cloud: a FIT with icLabel is verified with the JWKS configured for that label, and no other', () => {
  const logs = new LogCapture();
  const fits: string[] = [];
  let production: FakeForgeHost;
  let orange: FakeForgeHost;
  let ex: RunningApp;

  const send = (fit: string) => {
    fits.push(fit);
    return production.invoke(`${ex.url}${ROUTE}`, { fit });
  };
  const fetches = () => ({ production: production.jwks.fetches(), orange: orange.jwks.fetches() });

  beforeAll(async () => {
    production = await FakeForgeHost.start({ appId: JIRA_FORGE_APP_ID });
    orange = await FakeForgeHost.start({ appId: JIRA_FORGE_APP_ID });
    ex = await startFixtureApp({
      forgeAppIds: { jira: JIRA_FORGE_APP_ID },
      // A label such as __proto__ is configured like any other (JSON, as from a config file).
      connect: {
        forge: {
          jwksUrl: production.jwksUrl,
          isolatedCloudJwksUrls: JSON.parse(`{"orange": ${JSON.stringify(orange.jwksUrl)}, "__proto__": ${JSON.stringify(orange.jwksUrl)}}`) as Record<string, string>,
          jwksCooldownMs: 0,
        },
      },
      controllers: [IsolatedCloudEchoController],
      logger: logs,
    });
  });
  afterAll(async () => {
    await ex?.close();
    await production?.close();
    await orange?.close();
  });

  it('accepts a FIT with icLabel "orange" signed with the orange key, fetching only the orange JWKS', async () => {
    const response = await send(await orange.mintInvocationToken({ icLabel: 'orange' }));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ app: FIXTURE_JIRA_KEY, installationId: orange.installationId, icLabel: 'orange', claimed: 'orange' });
    expect(fetches()).toEqual({ production: 0, orange: 1 });
    expect(inspect(IsolatedCloudEchoController.last)).toContain("icLabel: 'orange'");
  });

  it('a FIT without icLabel is verified with the production JWKS: its key passes, the orange key does not', async () => {
    const plain = await send(await production.mintInvocationToken());
    expect(plain.status).toBe(200);
    expect(plain.body).toMatchObject({ icLabel: null, claimed: null });
    expect(IsolatedCloudEchoController.last?.icLabel).toBeUndefined();
    expect401(await send(await orange.mintInvocationToken()), 'forge/unknown-kid');
  });

  it('refuses a FIT with icLabel "orange" signed with the production key, whatever kid it names', async () => {
    const before = fetches();
    // The production kid is not in the orange key set (looked up there, never in production's).
    expect401(await send(await production.mintInvocationToken({ icLabel: 'orange' })), 'forge/unknown-kid');
    // The orange kid with the production key: the signature does not verify.
    expect401(await send(await production.mintInvocationToken({ icLabel: 'orange', kid: orange.signingKey.kid })), 'forge/invalid-token');
    expect(fetches().production).toBe(before.production);
  });

  it('refuses a FIT whose label is not configured with forge/unknown-isolated-cloud, without any JWKS fetch', async () => {
    const before = fetches();
    for (const icLabel of ['blue', 'constructor', 'hasownproperty', 'orange-2']) {
      for (const signer of [orange, production]) {
        const response = await send(await signer.mintInvocationToken({ icLabel }));
        expect401(response, 'forge/unknown-isolated-cloud');
        expect((response.body as { message: string }).message).toContain(`"${icLabel}"`);
      }
    }
    expect(fetches()).toEqual(before);
  });

  it('a configured label named __proto__ is a label like any other', async () => {
    const response = await send(await orange.mintInvocationToken({ icLabel: '__proto__' }));
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ icLabel: '__proto__' });
    expect401(await send(await production.mintInvocationToken({ icLabel: '__proto__' })), 'forge/unknown-kid');
  });

  it('refuses a malformed icLabel with forge/invalid-token before any key is looked at', async () => {
    const before = fetches();
    const malformed: unknown[] = ['Orange', 'orange/prod', '..', '../jwks', 'x'.repeat(51), '', 'orange ', 42, null, ['orange'], { label: 'orange' }];
    for (const icLabel of malformed) {
      const fit = await orange.mintInvocationToken({ claims: { icLabel: icLabel as never } });
      expect401(await send(fit), 'forge/invalid-token');
    }
    expect(fetches()).toEqual(before);
    expect(logs.all).toContain('forge/invalid-token');
  });

  it('never logs a FIT', () => {
    expect(fits.length).toBeGreaterThan(20);
    for (const fit of fits) expect(logs.all).not.toContain(fit);
  });
});
