/**
 * Two real processes of the built example app (`node dist/example/main.js`) sharing one PostgreSQL schema:
 * a lifecycle change handled by instance A must be honoured by instance B within a second, even when
 * B had the tenant cached (the tenant cache TTL is 10 s, so only the LISTEN/NOTIFY sync makes it); and
 * an app system token that a Forge call brought to A is used by B outside that call; and one Forge trigger
 * delivered to both (and redelivered) runs its handler once.
 *
 * Needs DATABASE_URL: the embedded engine lives inside one process and cannot be shared.
 */
import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { FakeConnectHost, FakeForgeHost, forgeSystemAccountId, startTestDatabase, type FakeHostApp, type FakeSite, type HttpCallResponse } from 'atlassian-connect-nest/testing';
import { JIRA_APP_KEY } from '../src/example/app.module.js';
import { freePort, startChild, type ChildApp } from './support/child-app.js';
import { expectRefused, expectServed, whoami } from './support/lifecycle-kit.js';

jest.setTimeout(90_000);

const PUBLIC_URL = 'https://multi.example.test';
/** How soon B must see what A committed. */
const PROPAGATION_LIMIT_MS = 1_000;
/** Both instances take Forge calls for the Jira app as this Forge app (FORGE_APP_ID_JIRA). */
const FORGE_APP_ID = '5d2c7a10-3e4f-4b6a-8c9d-0e1f2a3b4c5d';

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  // eslint-disable-next-line no-console
  console.info('multi-instance.e2e-spec: skipped, DATABASE_URL is not set (the embedded engine cannot be shared by two processes).');
}

(databaseUrl ? describe : describe.skip)('two app processes sharing one PostgreSQL schema', () => {
  let host: FakeConnectHost;
  let forge: FakeForgeHost;
  let db: Awaited<ReturnType<typeof startTestDatabase>>;
  let a: ChildApp;
  let b: ChildApp;
  let jiraA: FakeHostApp;
  let jiraB: FakeHostApp;
  const started = Date.now();
  const timings: string[] = [];

  beforeAll(async () => {
    host = await FakeConnectHost.start();
    forge = await FakeForgeHost.start({ appId: FORGE_APP_ID });
    db = await startTestDatabase();
    const env = (port: number): Record<string, string> => ({
      PORT: String(port),
      APP_BASE_URL: PUBLIC_URL,
      DATABASE_URL: db.url,
      CONNECT_DATABASE_SCHEMA: db.schema ?? '',
      CONNECT_INSTALL_KEYS_URL: host.installKeysUrl,
      CONNECT_AUTHORIZATION_SERVER_URL: host.authorizationServerUrl,
      FORGE_APP_ID_JIRA: FORGE_APP_ID,
      FORGE_JWKS_URL: forge.jwksUrl,
    });
    const [portA, portB] = [await freePort(), await freePort()];
    // One after the other: both would otherwise race to run the migrations on the fresh schema.
    a = await startChild('dist/example/main.js', env(portA), { port: portA });
    b = await startChild('dist/example/main.js', env(portB), { port: portB });
    jiraA = { key: JIRA_APP_KEY, product: 'jira', baseUrl: `${PUBLIC_URL}/jira`, via: a.url };
    jiraB = { ...jiraA, via: b.url };
  });

  afterAll(async () => {
    const codes = await Promise.all([a?.stop(), b?.stop()]);
    await host?.close();
    await forge?.close();
    await db?.stop();
    // eslint-disable-next-line no-console
    console.info(`multi-instance (exit codes ${codes.join(', ')}): ${timings.join('; ')}; total ${Date.now() - started} ms`);
    for (const [name, code] of [
      ['A', codes[0]],
      ['B', codes[1]],
    ] as const) {
      if (code !== undefined && code !== 0) throw new Error(`instance ${name} exited with ${String(code)}:\n${(name === 'A' ? a : b).output()}`);
    }
  });

  /** Polls B until `done(response)` holds; returns how long that took after the change committed. */
  async function untilB(label: string, site: FakeSite, done: (response: HttpCallResponse) => boolean): Promise<number> {
    const from = Date.now();
    for (;;) {
      const response = await whoami(host, jiraB, site);
      if (done(response)) {
        const took = Date.now() - from;
        timings.push(`${label} ${took} ms`);
        return took;
      }
      if (Date.now() - from > PROPAGATION_LIMIT_MS) throw new Error(`${label}: B still answers ${response.status} ${response.text} after ${PROPAGATION_LIMIT_MS} ms`);
      await new Promise((wait) => setTimeout(wait, 10));
    }
  }

  const typeOf = (response: HttpCallResponse): unknown => (response.body as { type?: unknown } | undefined)?.type;

  it('a re-install with a rotated secret through A: B refuses the old secret within 1 s and accepts the new', async () => {
    const site = host.newSite('jira');
    expect((await host.install(jiraA, site)).status).toBe(204);
    await expectServed(host, jiraB, site); // B caches the tenant now
    await expectServed(host, jiraB, site);

    const rotated = host.rotateSecret(site);
    expect((await host.install(jiraA, rotated)).status).toBe(204);
    await untilB('rotation', site, (response) => response.status === 401);
    await expectRefused(host, jiraB, site, 'jwt/invalid-signature');
    await expectServed(host, jiraB, rotated);
    await expectServed(host, jiraA, rotated);
    await expectRefused(host, jiraA, site, 'jwt/invalid-signature');
  });

  it('disable through A: B answers 401 jwt/tenant-inactive within 1 s; enable through A: B serves again', async () => {
    const site = host.newSite('jira');
    expect((await host.install(jiraA, site)).status).toBe(204);
    await expectServed(host, jiraB, site);

    expect((await host.disable(jiraA, site)).status).toBe(204);
    await untilB('disable', site, (response) => response.status === 401);
    await expectRefused(host, jiraB, site, 'jwt/tenant-inactive');

    expect((await host.enable(jiraA, site)).status).toBe(204);
    await untilB('enable', site, (response) => response.status === 200);
    await expectServed(host, jiraB, site);
  });

  it('uninstall through A: B answers 401 jwt/tenant-inactive within 1 s', async () => {
    const site = host.newSite('jira');
    expect((await host.install(jiraA, site)).status).toBe(204);
    await expectServed(host, jiraB, site);

    expect((await host.uninstall(jiraA, site)).status).toBe(204);
    await untilB('uninstall', site, (response) => response.status === 401 && typeOf(response) === 'jwt/tenant-inactive');
    await expectRefused(host, jiraB, site, 'jwt/tenant-inactive');
  });

  it('a change through B reaches A the same way (the sync is symmetric)', async () => {
    const site = host.newSite('jira');
    expect((await host.install(jiraB, site)).status).toBe(204);
    await expectServed(host, jiraA, site);
    const rotated = host.rotateSecret(site);
    expect((await host.install(jiraB, rotated)).status).toBe(204);
    const from = Date.now();
    for (;;) {
      const response = await whoami(host, jiraA, site);
      if (response.status === 401) break;
      if (Date.now() - from > PROPAGATION_LIMIT_MS) throw new Error(`A still answers ${response.status} after ${PROPAGATION_LIMIT_MS} ms`);
      await new Promise((wait) => setTimeout(wait, 10));
    }
    timings.push(`rotation B→A ${Date.now() - from} ms`);
    await expectServed(host, jiraA, rotated);
  });

  it('10 concurrent installs of one clientKey with different secrets, split over A and B: all 204, one row, exactly the last committed secret works', async () => {
    const site = host.newSite('jira');
    expect((await host.install(jiraA, site)).status).toBe(204);
    await expectServed(host, jiraA, site);
    await expectServed(host, jiraB, site);

    const attempts = Array.from({ length: 10 }, () => host.rotateSecret(site));
    const responses = await Promise.all(attempts.map((attempt, index) => host.install(index % 2 === 0 ? jiraA : jiraB, attempt)));
    expect(responses.map((response) => response.status)).toEqual(attempts.map(() => 204));

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}"."connect_tenant" WHERE app_key = $1 AND client_key = $2`, [
        JIRA_APP_KEY,
        site.clientKey,
      ]);
      expect(rows).toEqual([{ n: 1 }]);
    } finally {
      await client.end();
    }

    // Both instances agree on exactly one winner (the install that committed last); every other secret is refused.
    await new Promise((wait) => setTimeout(wait, 200));
    for (const app of [jiraA, jiraB]) {
      const answers = await Promise.all(attempts.map((attempt) => whoami(host, app, attempt)));
      const winners = attempts.filter((_, index) => answers[index]!.status === 200);
      expect(winners).toHaveLength(1);
      for (const [index, answer] of answers.entries()) {
        if (answer.status !== 200) expect({ index, status: answer.status, type: typeOf(answer) }).toEqual({ index, status: 401, type: 'jwt/invalid-signature' });
      }
    }
    const winnerOn = async (app: FakeHostApp) => {
      const answers = await Promise.all(attempts.map((attempt) => whoami(host, app, attempt)));
      return answers.findIndex((answer) => answer.status === 200);
    };
    expect(await winnerOn(jiraA)).toBe(await winnerOn(jiraB));
  });
  it('an app system token that a verified Forge call brought to A is used by B outside that call, from the shared table', async () => {
    const site = await host.startSite('jira');
    const tokens = site.forge.issueTokens({ installationId: forge.installationId, appId: FORGE_APP_ID });
    const fit = { installationId: tokens.installationId, apiBaseUrl: tokens.apiBaseUrl };
    const savedTokenCall = (app: ChildApp) => forge.invoke(`${app.url}/forge/remote/saved-token/myself`, { token: fit });

    // Nothing saved yet: B has no token to call with, and calls nothing.
    const early = await savedTokenCall(b);
    expect({ status: early.status, type: typeOf(early) }).toEqual({ status: 503, type: 'client/forge-token-expired' });
    expect(site.api.requests).toEqual([]);

    // A verified call to A carries the token; A saves it (encrypted) in the shared table.
    const toA = await forge.invoke(`${a.url}/forge/remote/hello`, { token: fit, systemToken: tokens.systemToken });
    expect({ status: toA.status, body: toA.body }).toMatchObject({ status: 200, body: { installationId: forge.installationId, tokens: { system: true } } });

    // B is called with a FIT and no system token: it calls the product with the token A received.
    const fromB = await savedTokenCall(b);
    expect(fromB.status).toBe(200);
    expect(fromB.body).toEqual({ installationId: forge.installationId, answered: expect.objectContaining({ accountId: forgeSystemAccountId(FORGE_APP_ID), accountType: 'app' }) });
    expect(site.api.requests).toHaveLength(1);
    expect(site.api.requests[0]).toMatchObject({
      path: `/ex/jira/${site.forge.cloudId}/rest/api/3/myself`,
      status: 200,
      forge: { principal: 'system', installationId: forge.installationId },
    });

    // It was exactly that token: once the product stops taking it, B's next call is refused by the product and B drops it.
    site.forge.revoke(tokens.systemToken);
    const revoked = await savedTokenCall(b);
    expect({ status: revoked.status, type: typeOf(revoked) }).toEqual({ status: 503, type: 'client/forge-token-expired' });
    expect(site.api.refusals.map((refusal) => refusal.reason)).toEqual(['revoked-forge-token']);
    // Dropped for A too: the row is shared.
    const afterDrop = await savedTokenCall(a);
    expect({ status: afterDrop.status, type: typeOf(afterDrop) }).toEqual({ status: 503, type: 'client/forge-token-expired' });
    expect(site.api.requests).toHaveLength(2);
  });

  it('one trigger delivered to A and B at once, then redelivered to B: its handler runs once across both (the shared event ledger)', async () => {
    const site = await host.startSite('jira');
    const installationId = `ari:cloud:ecosystem::installation/${randomUUID()}`;
    const tokens = site.forge.issueTokens({ installationId, appId: FORGE_APP_ID });
    const token = { installationId, apiBaseUrl: tokens.apiBaseUrl, context: { cloudId: tokens.cloudId } };
    const events = (app: ChildApp, path = '') => `${app.url}/jira/forge/events${path}`;
    // The installed event through A saves the system token the trigger's handler calls Jira with.
    expect((await forge.sendInstalledEvent(events(a), { token, systemToken: tokens.systemToken, retries: 0 })).delivered).toBe(true);
    site.api.reset();

    // The same delivery (same contextToken, so the same payload) reaching both instances at once, as a
    // Forge redelivery can while the first attempt is still running.
    const trigger = { token, contextToken: 'multi-instance-context', retries: 0 };
    const both = await Promise.all([a, b].map((app) => forge.runScheduledTrigger(events(app, '/scheduled'), 'hourly-sync', trigger)));
    const answers = both.map((report) => ({ status: report.attempts[0]!.status, body: report.attempts[0]!.body }));
    const ran = answers.filter((answer) => answer.status === 200 && (answer.body as { status?: string }).status === 'done');
    expect(ran).toEqual([{ status: 200, body: { status: 'done', handlers: 1 } }]);
    const other = answers.find((answer) => answer !== ran[0])!;
    // The other one either found the claim still held (503, so Forge would retry) or the work done.
    expect([
      { status: 503, body: expect.objectContaining({ type: 'forge/event-in-progress' }) },
      { status: 200, body: { status: 'duplicate', handlers: 0 } },
    ]).toContainEqual(other);

    // A later redelivery to B: answered as a duplicate, nothing runs again.
    const again = await forge.runScheduledTrigger(events(b, '/scheduled'), 'hourly-sync', trigger);
    expect(again.attempts.map((attempt) => [attempt.status, attempt.body])).toEqual([[200, { status: 'duplicate', handlers: 0 }]]);
    const calls = site.api.requests.filter((request) => request.forge?.installationId === installationId);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ status: 200, forge: { principal: 'system' } });

    // A different trigger run (a new contextToken) is new work: it runs, on B.
    const next = await forge.runScheduledTrigger(events(b, '/scheduled'), 'hourly-sync', { ...trigger, contextToken: 'multi-instance-next' });
    expect(next.attempts[0]!.body).toEqual({ status: 'done', handlers: 1 });
    expect(site.api.requests.filter((request) => request.forge?.installationId === installationId)).toHaveLength(2);
  });
});
