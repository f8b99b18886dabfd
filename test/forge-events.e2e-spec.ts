/**
 * Forge events and triggers through the framework's endpoints (`<basePath>/forge/events`, `/scheduled`,
 * `/pre-uninstall`), on the suite's adapter and engine: real FITs from a real JWKS server, real
 * redeliveries from `FakeForgeHost`, the saved system token used against a real fake product API, and the
 * delivery record in the real database.
 */
import { randomUUID } from 'node:crypto';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  ConnectClient,
  CONNECT_DATA_SOURCE,
  ConnectModule,
  FORGE_INSTALLED_EVENT,
  ForgeInstallations,
  OnForgeEvent,
  OnForgePreUninstall,
  OnForgeScheduledTrigger,
  OnPurge,
  TenantRetention,
  type ConnectPurgeEvent,
  type ForgeEventContext,
} from 'atlassian-connect-nest';
import {
  FakeConnectHost,
  FakeForgeHost,
  httpCall,
  LOOPBACK_HOST_PATTERNS,
  startTestDatabase,
  type FakeApiSite,
  type FakeForgeTokens,
  type ForgeDeliveryReport,
} from 'atlassian-connect-nest/testing';
import { createTestApp } from './support/http-adapter.js';
import { LogCapture } from './support/log-capture.js';

const JIRA_FORGE_APP_ID = randomUUID();
const CONFLUENCE_FORGE_APP_ID = randomUUID();
const jiraApp = { key: 'com.test.forge-events.jira', product: 'jira' as const, baseUrl: 'https://forge-events.example.test/jira' };
const confluenceApp = { key: 'com.test.forge-events.confluence', product: 'confluence' as const, baseUrl: 'https://forge-events.example.test/confluence' };
/** Short, so the slow handler outlives it by far. */
const DEADLINE_MS = 400;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Seen {
  handler: string;
  kind: string;
  app: string;
  eventType: string | undefined;
  moduleKey: string | undefined;
  installationId: string;
  retryCount: number | undefined;
  attempt: number;
  installationRecorded: boolean;
  payload: Record<string, unknown>;
}

/** The handlers under test; what they do is steered per installation by the test. */
@Injectable()
class EventRecorder {
  readonly seen: Seen[] = [];
  readonly purged: ConnectPurgeEvent[] = [];
  /** installationId → how many more times `created` fails. */
  readonly failures = new Map<string, number>();
  /** installationId → ms the slow handler takes. */
  readonly slow = new Map<string, number>();
  readonly finished = new Set<string>();
  /** What the scheduled trigger got from the product with the saved token. */
  readonly fetched: unknown[] = [];

  /** installationId → whether the preUninstall handler could still read the saved system token. */
  readonly tokenAtGoodbye = new Map<string, boolean>();

  constructor(
    private readonly client: ConnectClient,
    private readonly installations: ForgeInstallations,
  ) {}

  private note(handler: string, event: ForgeEventContext): void {
    this.seen.push({
      handler,
      kind: event.kind,
      app: event.app.key,
      eventType: event.eventType,
      moduleKey: event.moduleKey,
      installationId: event.forge.installationId,
      retryCount: event.retryContext?.retryCount,
      attempt: event.attempt,
      installationRecorded: event.installation?.installationId === event.forge.installationId,
      payload: event.payload as Record<string, unknown>,
    });
  }

  @OnForgeEvent(FORGE_INSTALLED_EVENT)
  installed(event: ForgeEventContext): void {
    this.note('installed', event);
  }

  @OnForgeEvent('avi:jira:created:issue', { app: jiraApp.key })
  created(event: ForgeEventContext<{ issue: { key: string } }>): void {
    this.note('created', event);
    const left = this.failures.get(event.forge.installationId) ?? 0;
    if (left > 0) {
      this.failures.set(event.forge.installationId, left - 1);
      throw new Error('the queue is down');
    }
  }

  @OnForgeEvent(['avi:jira:created:issue', 'avi:jira:updated:issue'])
  async audit(event: ForgeEventContext): Promise<void> {
    this.note('audit', event);
    const ms = this.slow.get(event.forge.installationId);
    if (ms !== undefined) await sleep(ms);
    this.finished.add(`${event.forge.installationId} ${event.eventType}`);
  }

  @OnForgeEvent('avi:confluence:created:page', { app: confluenceApp.key })
  page(event: ForgeEventContext): void {
    this.note('page', event);
  }

  @OnForgeScheduledTrigger('hourly-sync')
  async sync(event: ForgeEventContext): Promise<void> {
    this.note('sync', event);
    // The saved token, not this request's: asForgeApp(installationId) works the same from a cron job.
    this.fetched.push(await this.client.asForgeApp({ appKey: event.app.key, installationId: event.forge.installationId }).get('/rest/api/3/myself'));
  }

  @OnForgeScheduledTrigger()
  anyTrigger(event: ForgeEventContext): void {
    this.note('any-trigger', event);
  }

  @OnForgePreUninstall()
  async goodbye(event: ForgeEventContext): Promise<void> {
    this.note('goodbye', event);
    const saved = await this.installations.systemTokenOf(event.app.key, event.forge.installationId);
    this.tokenAtGoodbye.set(event.forge.installationId, saved?.token !== undefined);
  }

  @OnPurge()
  purge(event: ConnectPurgeEvent): void {
    this.purged.push(event);
  }
}

describe('Forge events and triggers', () => {
  const logs = new LogCapture();
  let app: INestApplication;
  let host: FakeConnectHost;
  let forge: FakeForgeHost;
  let jira: FakeApiSite;
  let via: string;
  let recorder: EventRecorder;
  let stopDatabase: () => Promise<void>;

  beforeAll(async () => {
    host = await FakeConnectHost.start();
    forge = await FakeForgeHost.start({ appId: JIRA_FORGE_APP_ID });
    const db = process.env.DATABASE_URL ? await startTestDatabase() : undefined;
    stopDatabase = async () => db?.stop();
    @Module({
      imports: [
        ConnectModule.forRoot({
          apps: [
            { ...jiraApp, descriptor: { name: 'J' }, forge: { appId: JIRA_FORGE_APP_ID }, allowedHostPatterns: LOOPBACK_HOST_PATTERNS },
            { ...confluenceApp, descriptor: { name: 'C' }, forge: { appId: CONFLUENCE_FORGE_APP_ID }, allowedHostPatterns: LOOPBACK_HOST_PATTERNS },
          ],
          installKeysUrl: host.installKeysUrl,
          forge: { jwksUrl: forge.jwksUrl },
          forgeEvents: { deadlineMs: DEADLINE_MS },
          retention: { schedule: false },
          database: db ? { url: db.url, schema: db.schema, poolSize: db.poolSize } : { embeddedDataDir: 'memory' },
        }),
      ],
      providers: [EventRecorder],
    })
    class ForgeEventsTestModule {}
    app = await createTestApp(ForgeEventsTestModule, { logger: logs });
    await app.listen(0, '127.0.0.1');
    via = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    recorder = app.get(EventRecorder);
    jira = await host.startSite('jira');
  });

  afterAll(async () => {
    await app?.close();
    await host?.close();
    await forge?.close();
    await stopDatabase?.();
  });

  const events = (path = '') => `${via}/jira/forge/events${path}`;
  const dataSource = () => app.get<DataSource>(getDataSourceToken(CONNECT_DATA_SOURCE));
  const seenBy = (installationId: string, handler?: string) => recorder.seen.filter((s) => s.installationId === installationId && (handler === undefined || s.handler === handler));
  /** A new installation on the Jira site, with its tokens and the FIT fields that point at the fake API. */
  function newInstallation(): { tokens: FakeForgeTokens; token: { installationId: string; apiBaseUrl: string; context: Record<string, unknown> } } {
    const installationId = `ari:cloud:ecosystem::installation/${randomUUID()}`;
    const tokens = jira.forge.issueTokens({ installationId, appId: JIRA_FORGE_APP_ID });
    return { tokens, token: { installationId, apiBaseUrl: tokens.apiBaseUrl, context: { cloudId: tokens.cloudId, siteUrl: 'https://events.atlassian.net' } } };
  }
  const statuses = (report: ForgeDeliveryReport) => report.attempts.map((attempt) => attempt.status);

  it('avi:forge:installed:app records the installation at once and seeds its system token, before the handler runs', async () => {
    const { tokens, token } = newInstallation();
    const report = await forge.sendInstalledEvent(events(), { token, systemToken: tokens.systemToken, retryDelayMs: 10 });
    expect(statuses(report)).toEqual([200]);
    expect(report.attempts[0]!.body).toEqual({ status: 'done', handlers: 1 });

    const recorded = await app.get(ForgeInstallations).get(jiraApp.key, token.installationId);
    expect(recorded).toMatchObject({ installationId: token.installationId, cloudId: tokens.cloudId, uninstalledAt: null });
    expect(recorded!.installedAt).toBeInstanceOf(Date);
    expect((await app.get(ForgeInstallations).systemTokenOf(jiraApp.key, token.installationId))?.token).toBe(tokens.systemToken);
    expect(seenBy(token.installationId)).toEqual([
      expect.objectContaining({ handler: 'installed', kind: 'event', eventType: FORGE_INSTALLED_EVENT, installationRecorded: true, retryCount: undefined, attempt: 1 }),
    ]);

    // After the request: a background call with the saved token reaches the product.
    jira.api.reset();
    await expect(app.get(ConnectClient).asForgeApp({ appKey: jiraApp.key, installationId: token.installationId }).get('/rest/api/3/myself')).resolves.toBeDefined();
    expect(jira.api.requests.at(-1)).toMatchObject({ status: 200, auth: 'bearer', forge: { principal: 'system', installationId: token.installationId } });
  });

  it('avi:forge:upgraded:app stamps upgradedAt and the new version', async () => {
    const { tokens, token } = newInstallation();
    await forge.sendInstalledEvent(events(), { token, systemToken: tokens.systemToken });
    const report = await forge.sendUpgradedEvent(events(), { token: { ...token, appVersion: '2.0.0' }, systemToken: tokens.systemToken });
    expect(statuses(report)).toEqual([200]);
    const recorded = await app.get(ForgeInstallations).get(jiraApp.key, token.installationId);
    expect(recorded).toMatchObject({ appVersion: '2.0.0' });
    expect(recorded!.upgradedAt).toBeInstanceOf(Date);
  });

  it('dispatches a product event to every matching handler, and only those (by name, app and list)', async () => {
    const { token } = newInstallation();
    const report = await forge.sendEvent(events(), 'avi:jira:created:issue', { issue: { key: 'EV-1' } }, { token });
    expect(statuses(report)).toEqual([200]);
    expect(report.attempts[0]!.body).toEqual({ status: 'done', handlers: 2 });
    expect(
      seenBy(token.installationId)
        .map((s) => s.handler)
        .sort(),
    ).toEqual(['audit', 'created']);
    expect(seenBy(token.installationId, 'created')[0]).toMatchObject({ app: jiraApp.key, payload: { eventType: 'avi:jira:created:issue', issue: { key: 'EV-1' } } });

    const updated = await forge.sendEvent(events(), 'avi:jira:updated:issue', { issue: { key: 'EV-1' }, changelog: { id: '1' } }, { token });
    expect(updated.attempts[0]!.body).toEqual({ status: 'done', handlers: 1 });
    const unheard = await forge.sendEvent(events(), 'avi:jira:deleted:issue', { issue: { key: 'EV-1' } }, { token });
    expect(unheard.attempts[0]!.body).toEqual({ status: 'done', handlers: 0 });
    expect(seenBy(token.installationId).map((s) => `${s.handler} ${s.eventType}`)).toEqual(
      expect.arrayContaining(['audit avi:jira:created:issue', 'created avi:jira:created:issue', 'audit avi:jira:updated:issue']),
    );
    expect(seenBy(token.installationId)).toHaveLength(3);

    // The Confluence app's handler takes only the Confluence app's events, at its own path.
    {
      const installationId = `ari:cloud:ecosystem::installation/${randomUUID()}`;
      const wrongPath = await forge.sendEvent(`${via}/confluence/forge/events`, 'avi:confluence:created:page', { page: { id: '1' } }, { token: { installationId }, retries: 0 });
      expect(wrongPath.attempts[0]!.status).toBe(401); // a Jira app's FIT at the Confluence app's endpoint
      expect((wrongPath.attempts[0]!.body as { type: string }).type).toBe('forge/invalid-aud');
      const page = await forge.sendEvent(
        `${via}/confluence/forge/events`,
        'avi:confluence:created:page',
        { page: { id: '1' } },
        { token: { installationId, appId: CONFLUENCE_FORGE_APP_ID } },
      );
      expect(statuses(page)).toEqual([200]);
      expect(seenBy(installationId)).toEqual([expect.objectContaining({ handler: 'page', app: confluenceApp.key })]);
    }
  });

  it('a handler that throws answers 500, Forge redelivers with retryContext, and only the failed handler runs again', async () => {
    const { token } = newInstallation();
    recorder.failures.set(token.installationId, 1);
    const report = await forge.sendEvent(events(), 'avi:jira:created:issue', { issue: { key: 'EV-2' } }, { token, retryDelayMs: 20 });
    expect(statuses(report)).toEqual([500, 200]);
    expect(report.attempts[0]!.body).toMatchObject({ type: 'forge/event-failed', message: expect.stringContaining('EventRecorder.created') });
    expect(report.attempts[1]!.body).toEqual({ status: 'done', handlers: 1 });
    const created = seenBy(token.installationId, 'created');
    expect(created.map((s) => [s.attempt, s.retryCount])).toEqual([
      [1, undefined],
      [2, 1],
    ]);
    expect(seenBy(token.installationId, 'audit')).toHaveLength(1);
    expect(logs.all).toContain('handler EventRecorder.created failed');
    expect(logs.all).toContain('the queue is down');
  });

  it('the same event delivered twice runs its handlers once; the duplicate is answered 200', async () => {
    const { token } = newInstallation();
    const payload = { issue: { key: 'EV-3' }, timestamp: 1 };
    const first = await forge.sendEvent(events(), 'avi:jira:created:issue', payload, { token });
    const again = await forge.sendEvent(events(), 'avi:jira:created:issue', { timestamp: 1, issue: { key: 'EV-3' } }, { token });
    expect(first.attempts[0]!.body).toEqual({ status: 'done', handlers: 2 });
    expect(again.attempts.map((a) => [a.status, a.body])).toEqual([[200, { status: 'duplicate', handlers: 0 }]]);
    expect(seenBy(token.installationId)).toHaveLength(2);
    const different = await forge.sendEvent(events(), 'avi:jira:created:issue', { ...payload, timestamp: 2 }, { token });
    expect(different.attempts[0]!.body).toEqual({ status: 'done', handlers: 2 });
    const rows = (await dataSource().query(`SELECT "status", "attempts" FROM "connect_forge_event" WHERE "installation_id" = $1 ORDER BY "received_at"`, [
      token.installationId,
    ])) as {
      status: string;
    }[];
    expect(rows.map((r) => r.status)).toEqual(['done', 'done']);
  });

  it('a slow handler is answered 202 at the deadline and keeps running; a delivery meanwhile is 503 (in progress), then a duplicate', async () => {
    const { token } = newInstallation();
    recorder.slow.set(token.installationId, DEADLINE_MS * 4);
    const key = `${token.installationId} avi:jira:updated:issue`;
    const started = Date.now();
    const first = await forge.sendEvent(events(), 'avi:jira:updated:issue', { issue: { key: 'EV-4' } }, { token, retries: 0 });
    expect(first.attempts.map((a) => [a.status, a.body])).toEqual([[202, { status: 'accepted', handlers: 1 }]]);
    expect(recorder.finished.has(key)).toBe(false); // answered before the handler finished
    expect(Date.now() - started).toBeLessThan(DEADLINE_MS * 4);

    const meanwhile = await forge.sendEvent(events(), 'avi:jira:updated:issue', { issue: { key: 'EV-4' } }, { token, retries: 0 });
    expect(meanwhile.attempts.map((a) => [a.status, (a.body as { type?: string }).type])).toEqual([[503, 'forge/event-in-progress']]);

    for (let i = 0; i < 100 && !recorder.finished.has(key); i++) await sleep(50);
    expect(recorder.finished.has(key)).toBe(true);
    await sleep(100); // the record is written after the handler returns
    const after = await forge.sendEvent(events(), 'avi:jira:updated:issue', { issue: { key: 'EV-4' } }, { token, retries: 0 });
    expect(after.attempts[0]!.body).toEqual({ status: 'duplicate', handlers: 0 });
    expect(seenBy(token.installationId, 'audit')).toHaveLength(1);
  });

  it('a scheduled trigger reaches the handlers of its key (and the catch-all), which call the product with the saved token', async () => {
    const { tokens, token } = newInstallation();
    await forge.sendInstalledEvent(events(), { token, systemToken: tokens.systemToken });
    jira.api.reset();
    // This trigger brings no token of its own: the handler's call uses the one saved by the installed event.
    const report = await forge.runScheduledTrigger(events('/scheduled'), 'hourly-sync', { token });
    expect(statuses(report)).toEqual([200]);
    expect(report.attempts[0]!.body).toEqual({ status: 'done', handlers: 2 });
    expect(seenBy(token.installationId, 'sync')).toEqual([expect.objectContaining({ kind: 'scheduled', moduleKey: 'hourly-sync', eventType: undefined })]);
    expect(seenBy(token.installationId, 'any-trigger')).toHaveLength(1);
    expect(jira.api.requests.at(-1)).toMatchObject({ status: 200, auth: 'bearer', forge: { principal: 'system', installationId: token.installationId } });
    expect(recorder.fetched.at(-1)).toMatchObject({ accountType: 'app' });

    const other = await forge.runScheduledTrigger(events('/scheduled'), 'nightly-report', { token });
    expect(other.attempts[0]!.body).toEqual({ status: 'done', handlers: 1 });
    expect(seenBy(token.installationId, 'sync')).toHaveLength(1);
  });

  it('preUninstall marks the installation uninstalled and drops its token; the retention purge then runs @OnPurge for it', async () => {
    const { tokens, token } = newInstallation();
    await forge.sendInstalledEvent(events(), { token, systemToken: tokens.systemToken });
    const report = await forge.runPreUninstall(events('/pre-uninstall'), 'goodbye', { token });
    expect(statuses(report)).toEqual([200]);
    expect(seenBy(token.installationId, 'goodbye')).toEqual([expect.objectContaining({ kind: 'pre-uninstall', moduleKey: 'goodbye' })]);
    expect(recorder.tokenAtGoodbye.get(token.installationId)).toBe(true); // the handler could still call the product
    const installations = app.get(ForgeInstallations);
    const recorded = await installations.get(jiraApp.key, token.installationId);
    expect(recorded!.uninstalledAt).toBeInstanceOf(Date);
    expect(recorded!.systemTokenExpiresAt).toBeNull();
    expect((await installations.systemTokenOf(jiraApp.key, token.installationId))?.token).toBeUndefined();

    const retention = app.get(TenantRetention);
    const early = await retention.purge();
    expect(early.forgeInstallations.purged.map((p) => p.clientKey)).not.toContain(token.installationId);
    const report31 = await retention.purge(new Date(Date.now() + 31 * 24 * 3600 * 1000));
    expect(report31.forgeInstallations.purged.map((p) => p.clientKey)).toContain(token.installationId);
    expect(recorder.purged.find((event) => event.tenant.clientKey === token.installationId)).toMatchObject({
      kind: 'forge',
      app: { key: jiraApp.key },
      tenant: { appKey: jiraApp.key, baseUrl: 'https://events.atlassian.net' },
    });
    expect(await installations.get(jiraApp.key, token.installationId)).toBeNull();
    expect(report31.forgeEventRecordsDeleted).toBeGreaterThan(0);
  });

  describe('refusals', () => {
    const post = async (path: string, body: unknown, fit?: string | null, raw?: string) =>
      httpCall({
        method: 'POST',
        url: events(path),
        headers: {
          'content-type': 'application/json',
          ...(fit !== null && { authorization: `Bearer ${fit ?? (await forge.mintInvocationToken({ module: { type: 'core:endpoint', key: 'e' }, principal: null }))}` }),
        },
        body: raw ?? body,
      });

    it.each<[string, string, unknown]>([
      ['a body that is not an object', '', ['avi:jira:created:issue']],
      ['an event without eventType', '', { payload: { issue: {} } }],
      ['an eventType that is not an event name', '', { payload: { eventType: 'drop table' } }],
      ['a retryContext that is not an object', '', { payload: { eventType: 'avi:jira:created:issue', retryContext: 'again' } }],
      ['a retryCount that is not a count', '', { payload: { eventType: 'avi:jira:created:issue', retryContext: { retryCount: -1 } } }],
      ['a scheduled trigger with a bad module key', '/scheduled', { payload: { context: { moduleKey: '../x' } } }],
    ])('%s is a typed 400 forge/invalid-event', async (_name, path, body) => {
      const response = await post(path, body);
      expect({ status: response.status, type: (response.body as { type?: string }).type }).toEqual({ status: 400, type: 'forge/invalid-event' });
    });

    it('invalid JSON is a typed 400 forge/invalid-event', async () => {
      const response = await post('', undefined, undefined, '{"payload": ');
      expect({ status: response.status, type: (response.body as { type?: string }).type }).toEqual({ status: 400, type: 'forge/invalid-event' });
    });

    it('a body over the size cap is refused before any handler runs (413), on both adapters', async () => {
      const before = recorder.seen.length;
      const response = await post('', { payload: { eventType: 'avi:jira:created:issue', filler: 'x'.repeat(200 * 1024) } });
      expect({ status: response.status, type: (response.body as { type?: string }).type }).toEqual({ status: 413, type: 'lifecycle/payload-too-large' });
      expect(recorder.seen.length).toBe(before);
    });

    it('no FIT, or a bad one, is a typed 401 and runs nothing', async () => {
      const before = recorder.seen.length;
      const none = await post('', { payload: { eventType: 'avi:jira:created:issue' } }, null);
      expect({ status: none.status, type: (none.body as { type?: string }).type }).toEqual({ status: 401, type: 'forge/missing-token' });
      const expired = await post('', { payload: { eventType: 'avi:jira:created:issue' } }, await forge.mintInvocationToken({ expiresIn: -600 }));
      expect({ status: expired.status, type: (expired.body as { type?: string }).type }).toEqual({ status: 401, type: 'forge/expired' });
      expect(expired.headers['www-authenticate']).toMatch(/^Bearer realm=/);
      // Forge retries a 401 with INVALID_FORGE_INVOCATION_TOKEN: shown by the fake host's delivery report.
      const forged = await forge.sendEvent(events(), 'avi:jira:created:issue', {}, { token: { appId: randomUUID() }, retries: 1, retryDelayMs: 10 });
      expect(forged.attempts.map((a) => [a.status, a.retryContext?.retryReason])).toEqual([
        [401, undefined],
        [401, 'INVALID_FORGE_INVOCATION_TOKEN'],
      ]);
      expect(recorder.seen.length).toBe(before);
    });
  });
});
