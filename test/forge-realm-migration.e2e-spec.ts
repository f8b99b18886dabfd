/**
 * Data residency (realm) migration hooks through the framework's routes
 * (`<basePath>/forge/realm-migration/{schedule,start,status,commit,rollback}`), on the suite's adapter
 * and engine: real FITs from a real JWKS server, whole migrations driven by `FakeForgeHost.migrateRealm`
 * the way Atlassian's migration service does (retries, status polling, commit or rollback), and the
 * installation record in the real database.
 */
import { randomUUID } from 'node:crypto';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import {
  ConnectModule,
  ForgeInstallations,
  OnRealmMigration,
  refuseRealmMigration,
  type ConnectModuleOptions,
  type RealmMigrationContext,
  type RealmMigrationContextOf,
  type RealmMigrationStatus,
} from 'atlassian-connect-nest';
import { FakeForgeHost, startTestDatabase, type RealmMigrationReport } from 'atlassian-connect-nest/testing';
import { createTestApp } from './support/http-adapter.js';
import { LogCapture } from './support/log-capture.js';

const JIRA_FORGE_APP_ID = randomUUID();
const CONFLUENCE_FORGE_APP_ID = randomUUID();
const PARTIAL_FORGE_APP_ID = randomUUID();
const jiraApp = {
  key: 'com.test.realm.jira',
  product: 'jira' as const,
  baseUrl: 'https://realm.example.test/jira',
  descriptor: { name: 'J' },
  forge: { appId: JIRA_FORGE_APP_ID },
};
/** No realm migration handler at all. */
const confluenceApp = {
  key: 'com.test.realm.confluence',
  product: 'confluence' as const,
  baseUrl: 'https://realm.example.test/confluence',
  descriptor: { name: 'C' },
  forge: { appId: CONFLUENCE_FORGE_APP_ID },
};
/** Only start and status: schedule, commit and rollback have nothing to do. */
const partialApp = {
  key: 'com.test.realm.partial',
  product: 'jira' as const,
  baseUrl: 'https://realm.example.test/partial',
  connect: false as const,
  forge: { appId: PARTIAL_FORGE_APP_ID },
};

/** What the handlers saw, one entry per call. */
interface Seen {
  readonly handler: string;
  readonly context: RealmMigrationContext;
  readonly installationRecorded: boolean;
}

/** The test's handlers: what they answer is steered per installation. */
@Injectable()
class MigrationRecorder {
  readonly seen: Seen[] = [];
  /** installationId → statuses the status handler answers in turn (the last one repeats). */
  readonly statusPlan = new Map<string, RealmMigrationStatus[]>();
  /** installationId → how many more times `start` throws. */
  readonly startFailures = new Map<string, number>();
  /** installationId → the code `schedule` refuses with. */
  readonly scheduleRefusal = new Map<string, 'E0002' | 'E0004'>();
  /** installationId → a status handler that returns nonsense. */
  readonly brokenStatus = new Set<string>();

  private note(handler: string, context: RealmMigrationContext): void {
    this.seen.push({ handler, context, installationRecorded: context.installation?.installationId === context.forge.installationId });
  }

  @OnRealmMigration('schedule', { app: jiraApp.key })
  schedule(migration: RealmMigrationContextOf<'schedule'>): void {
    this.note('schedule', migration);
    const refusal = this.scheduleRefusal.get(migration.forge.installationId);
    if (refusal !== undefined) throw refuseRealmMigration(refusal, `No migrations to ${migration.location} today.`);
  }

  @OnRealmMigration('start', { app: jiraApp.key })
  start(migration: RealmMigrationContextOf<'start'>): void {
    this.note('start', migration);
    const left = this.startFailures.get(migration.forge.installationId) ?? 0;
    if (left > 0) {
      this.startFailures.set(migration.forge.installationId, left - 1);
      throw new Error('the copy queue is down');
    }
  }

  @OnRealmMigration('status', { app: jiraApp.key })
  status(migration: RealmMigrationContextOf<'status'>): RealmMigrationStatus {
    this.note('status', migration);
    if (this.brokenStatus.has(migration.forge.installationId)) return { status: 'Ready To Commit!' };
    const plan = this.statusPlan.get(migration.forge.installationId) ?? [{ status: 'ready-to-commit' }];
    return plan.length > 1 ? plan.shift()! : plan[0]!;
  }

  @OnRealmMigration('commit', { app: jiraApp.key })
  commit(migration: RealmMigrationContextOf<'commit'>): void {
    this.note('commit', migration);
  }

  @OnRealmMigration('rollback', { app: jiraApp.key })
  rollback(migration: RealmMigrationContextOf<'rollback'>): void {
    this.note('rollback', migration);
  }

  @OnRealmMigration('start', { app: partialApp.key })
  partialStart(migration: RealmMigrationContextOf<'start'>): void {
    this.note('partial-start', migration);
  }

  @OnRealmMigration('status', { app: partialApp.key })
  partialStatus(migration: RealmMigrationContextOf<'status'>): RealmMigrationStatus {
    this.note('partial-status', migration);
    return { status: 'ready-to-commit' };
  }
}

/** Two status handlers for the same app: the bootstrap must refuse. */
@Injectable()
class SecondStatusHandler {
  @OnRealmMigration('status', { product: 'jira' })
  status(): RealmMigrationStatus {
    return { status: 'ready-to-commit' };
  }
}

describe('Forge realm migration hooks', () => {
  const logs = new LogCapture();
  let app: INestApplication;
  let forge: FakeForgeHost;
  let via: string;
  let recorder: MigrationRecorder;
  let database: ConnectModuleOptions['database'];
  let stopDatabase: () => Promise<void>;

  beforeAll(async () => {
    forge = await FakeForgeHost.start({ appId: JIRA_FORGE_APP_ID });
    const db = process.env.DATABASE_URL ? await startTestDatabase() : undefined;
    stopDatabase = async () => db?.stop();
    database = db ? { url: db.url, schema: db.schema, poolSize: db.poolSize } : { embeddedDataDir: 'memory' };
    @Module({
      imports: [ConnectModule.forRoot({ apps: [jiraApp, confluenceApp, partialApp], forge: { jwksUrl: forge.jwksUrl }, retention: { schedule: false }, database })],
      providers: [MigrationRecorder],
    })
    class RealmMigrationTestModule {}
    app = await createTestApp(RealmMigrationTestModule, { logger: logs });
    await app.listen(0, '127.0.0.1');
    via = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    recorder = app.get(MigrationRecorder);
  });

  afterAll(async () => {
    await app?.close();
    await forge?.close();
    await stopDatabase?.();
  });

  const hooks = (base = '/jira') => `${via}${base}/forge/realm-migration`;
  const fast = { retryDelayMs: 5, pollIntervalMs: 5 };
  const newInstallation = () => ({ installationId: `ari:cloud:ecosystem::installation/${randomUUID()}` });
  const seenBy = (installationId: string) => recorder.seen.filter((s) => s.context.forge.installationId === installationId);
  const phases = (report: RealmMigrationReport) => report.calls.map((call) => `${call.phase} ${String(call.status)}`);

  it('runs a whole migration: schedule → start → status polling → commit, with typed contexts', async () => {
    const token = newInstallation();
    recorder.statusPlan.set(token.installationId, [{ status: 'in-progress' }, { status: 'copying' }, { status: 'ready-to-commit' }]);
    const startTime = new Date('2026-12-26T00:00:00.000Z');
    const endTime = new Date('2026-12-26T01:30:00.000Z');
    const report = await forge.migrateRealm(hooks(), { ...fast, token, migrationId: 57500, location: 'EU', startTime, endTime, systemToken: 'sys-migration' });

    expect(report).toMatchObject({ migrationId: '57500', outcome: 'committed', reason: undefined, errorResponseCode: undefined });
    expect(phases(report)).toEqual(['schedule 200', 'start 200', 'status 200', 'status 200', 'status 200', 'commit 200']);
    expect(report.statuses).toEqual(['in-progress', 'copying', 'ready-to-commit']);
    expect(report.calls[0]!.body).toEqual({ phase: 'schedule', migrationId: '57500', handled: true });
    expect(report.calls[2]!.body).toEqual({ status: 'in-progress' });
    expect(new Set(report.calls.map((call) => call.fit)).size).toBe(report.calls.length); // a fresh FIT per call

    const seen = seenBy(token.installationId);
    expect(seen.map((s) => s.handler)).toEqual(['schedule', 'start', 'status', 'status', 'status', 'commit']);
    expect(seen.every((s) => s.installationRecorded && s.context.app.key === jiraApp.key)).toBe(true);
    const start = seen[1]!.context as RealmMigrationContextOf<'start'>;
    expect(start).toMatchObject({ phase: 'start', migrationId: '57500', location: 'EU', payload: { migrationId: 57500, location: 'EU' } });
    expect(start.startTime).toEqual(startTime);
    expect(start.endTime).toEqual(endTime);
    expect(Object.isFrozen(start)).toBe(true);
    expect(start.forge.module).toEqual({ type: 'migration:dataResidency', key: 'dare' });
    expect(start.forge.systemToken).toBe('sys-migration');
    expect(seen[2]!.context).toMatchObject({ phase: 'status', migrationId: '57500' });
    expect(seen[5]!.context).toMatchObject({ phase: 'commit', migrationId: '57500', payload: { migrationId: 57500 } });
    // The framework recorded the installation from the migration service's FIT.
    expect(await app.get(ForgeInstallations).get(jiraApp.key, token.installationId)).toMatchObject({ installationId: token.installationId, uninstalledAt: null });
  });

  it('rolls back when the app reports failed (with its errorResponseCode), and when the admin cancels', async () => {
    const failing = newInstallation();
    recorder.statusPlan.set(failing.installationId, [{ status: 'in-progress' }, { status: 'failed', errorResponseCode: 'E0002' }]);
    const failed = await forge.migrateRealm(hooks(), { ...fast, token: failing, migrationId: 'mig-1' });
    expect(failed).toMatchObject({ outcome: 'rolled-back', reason: 'failed', errorResponseCode: 'E0002' });
    expect(phases(failed)).toEqual(['schedule 200', 'start 200', 'status 200', 'status 200', 'rollback 200']);
    expect(failed.calls.at(-1)!.body).toEqual({ phase: 'rollback', migrationId: 'mig-1', handled: true });
    expect(seenBy(failing.installationId).map((s) => s.handler)).toEqual(['schedule', 'start', 'status', 'status', 'rollback']);

    const cancelled = newInstallation();
    const report = await forge.migrateRealm(hooks(), { ...fast, token: cancelled, cancelAfter: 'start' });
    expect(report).toMatchObject({ outcome: 'rolled-back', reason: 'cancelled' });
    expect(seenBy(cancelled.installationId).map((s) => `${s.handler} ${s.context.migrationId}`)).toEqual([
      `schedule ${report.migrationId}`,
      `start ${report.migrationId}`,
      `rollback ${report.migrationId}`,
    ]);
  });

  it('rolls back when the window ends without ready-to-commit', async () => {
    const token = newInstallation();
    recorder.statusPlan.set(token.installationId, [{ status: 'in-progress' }]);
    const report = await forge.migrateRealm(hooks(), { ...fast, token, maxPolls: 3 });
    expect(report).toMatchObject({ outcome: 'rolled-back', reason: 'not-ready' });
    expect(report.statuses).toEqual(['in-progress', 'in-progress', 'in-progress']);
    expect(seenBy(token.installationId).at(-1)!.handler).toBe('rollback');
  });

  it('a handler error is a typed 500 without errorResponseCode, which Atlassian retries; the retry succeeds', async () => {
    const token = newInstallation();
    recorder.startFailures.set(token.installationId, 1);
    logs.clear();
    const report = await forge.migrateRealm(hooks(), { ...fast, token });
    expect(report.outcome).toBe('committed');
    expect(phases(report)).toEqual(['schedule 200', 'start 500', 'start 200', 'status 200', 'commit 200']);
    const failedStart = report.calls[1]!;
    expect(failedStart.body).toEqual({ type: 'forge/realm-migration-failed', message: expect.stringContaining('MigrationRecorder.start') });
    expect(failedStart.body).not.toHaveProperty('errorResponseCode');
    expect(logs.all).toContain('the copy queue is down');
    expect(logs.all).not.toContain(failedStart.fit);
  });

  it('a handler that keeps failing makes the migration fail after two retries, then rolls back', async () => {
    const token = newInstallation();
    recorder.startFailures.set(token.installationId, 10);
    const report = await forge.migrateRealm(hooks(), { ...fast, token });
    expect(report).toMatchObject({ outcome: 'rolled-back', reason: 'start-failed', errorResponseCode: undefined });
    expect(phases(report)).toEqual(['schedule 200', 'start 500', 'start 500', 'start 500', 'rollback 200']);
  });

  it('refuseRealmMigration() answers 409 with Atlassian’s errorResponseCode: no retries, then rollback', async () => {
    const token = newInstallation();
    recorder.scheduleRefusal.set(token.installationId, 'E0004');
    const report = await forge.migrateRealm(hooks(), { ...fast, token, location: 'AU' });
    expect(report).toMatchObject({ outcome: 'rolled-back', reason: 'schedule-failed', errorResponseCode: 'E0004' });
    expect(phases(report)).toEqual(['schedule 409', 'rollback 200']);
    expect(report.calls[0]!.body).toEqual({ type: 'forge/realm-migration-refused', message: 'No migrations to AU today.', errorResponseCode: 'E0004' });
  });

  it('a status handler that answers nonsense is a typed 500; polling goes on until the window ends', async () => {
    const token = newInstallation();
    recorder.brokenStatus.add(token.installationId);
    const report = await forge.migrateRealm(hooks(), { ...fast, token, maxPolls: 2 });
    expect(report).toMatchObject({ outcome: 'rolled-back', reason: 'not-ready' });
    expect(phases(report)).toEqual(['schedule 200', 'start 200', 'status 500', 'status 500', 'rollback 200']);
    expect((report.calls[2]!.body as { type: string }).type).toBe('forge/realm-migration-failed');
  });

  it('status without ?migrationId= reaches the handler with migrationId undefined', async () => {
    const token = newInstallation();
    const report = await forge.migrateRealm(hooks(), { ...fast, token, statusWithoutMigrationId: true });
    expect(report.outcome).toBe('committed');
    const status = seenBy(token.installationId).find((s) => s.handler === 'status')!;
    expect(status.context).toMatchObject({ phase: 'status', migrationId: undefined, payload: {} });
  });

  it('an app without start and status handlers declines at schedule with E0003; commit and rollback have nothing to do', async () => {
    const token = { ...newInstallation(), appId: CONFLUENCE_FORGE_APP_ID };
    const before = recorder.seen.length;
    const report = await forge.migrateRealm(hooks('/confluence'), { ...fast, token, migrationId: 7 });
    expect(report).toMatchObject({ outcome: 'rolled-back', reason: 'schedule-failed', errorResponseCode: 'E0003' });
    expect(phases(report)).toEqual(['schedule 409', 'rollback 200']);
    expect(report.calls[0]!.body).toMatchObject({ type: 'forge/realm-migration-refused', errorResponseCode: 'E0003' });
    expect(report.calls[1]!.body).toEqual({ phase: 'rollback', migrationId: '7', handled: false });

    const start = await forge.invoke(`${hooks('/confluence')}/start`, { token, body: { migrationId: 7, location: 'EU' } });
    expect(start.status).toBe(409);
    expect(start.body).toMatchObject({ errorResponseCode: 'E0003' });
    const status = await forge.invoke(`${hooks('/confluence')}/status?migrationId=7`, { method: 'GET', token });
    expect([status.status, status.body]).toEqual([200, { status: 'failed', errorResponseCode: 'E0003' }]);
    const commit = await forge.invoke(`${hooks('/confluence')}/commit`, { token, body: { migrationId: 7 } });
    expect([commit.status, commit.body]).toEqual([200, { phase: 'commit', migrationId: '7', handled: false }]);
    expect(recorder.seen.length).toBe(before); // the Jira app's handlers took none of it
  });

  it('an app with only start and status handlers migrates: schedule and commit answer 200 with handled: false', async () => {
    const token = { ...newInstallation(), appId: PARTIAL_FORGE_APP_ID };
    const report = await forge.migrateRealm(hooks('/partial'), { ...fast, token });
    expect(report.outcome).toBe('committed');
    expect(report.calls.map((call) => call.body)).toEqual([
      { phase: 'schedule', migrationId: report.migrationId, handled: false },
      { phase: 'start', migrationId: report.migrationId, handled: true },
      { status: 'ready-to-commit' },
      { phase: 'commit', migrationId: report.migrationId, handled: false },
    ]);
    expect(seenBy(token.installationId).map((s) => s.handler)).toEqual(['partial-start', 'partial-status']);
  });

  it('refuses malformed bodies and queries with a typed 400, before any handler runs', async () => {
    const token = newInstallation();
    const post = (phase: string, body: unknown, headers?: Record<string, string>) => forge.invoke(`${hooks()}/${phase}`, { token, body, ...(headers && { headers }) });
    const cases: [string, unknown][] = [
      ['schedule', []],
      ['schedule', { location: 'EU' }],
      ['schedule', { migrationId: -1, location: 'EU' }],
      ['schedule', { migrationId: 1.5, location: 'EU' }],
      ['start', { migrationId: 'has spaces', location: 'EU' }],
      ['start', { migrationId: 1 }],
      ['start', { migrationId: 1, location: 'E U' }],
      ['start', { migrationId: 1, location: 'EU', startTime: 'tomorrow' }],
      ['start', { migrationId: 1, location: 'EU', startTime: '2026-12-27T00:00:00Z', endTime: '2026-12-26T00:00:00Z' }],
      ['commit', { migrationId: { id: 1 } }],
      ['rollback', 'x'.repeat(10)],
    ];
    for (const [phase, body] of cases) {
      const res = await post(phase, body);
      expect([phase, body, res.status, (res.body as { type?: string }).type]).toEqual([phase, body, 400, 'forge/invalid-realm-migration']);
    }
    const notJson = await post('commit', '{"migrationId": 1', { 'content-type': 'application/json' });
    expect([notJson.status, (notJson.body as { type?: string }).type]).toEqual([400, 'forge/invalid-realm-migration']);
    let deep: unknown = 1;
    for (let i = 0; i < 30; i++) deep = { deep };
    const tooDeep = await post('commit', { migrationId: 1, deep });
    expect([tooDeep.status, (tooDeep.body as { type?: string }).type]).toEqual([400, 'forge/invalid-realm-migration']);
    const tooLarge = await post('commit', { migrationId: 1, filler: 'x'.repeat(200 * 1024) });
    expect([tooLarge.status, (tooLarge.body as { type?: string }).type]).toEqual([413, 'lifecycle/payload-too-large']);
    for (const query of ['?migrationId=1&migrationId=2', '?migrationId=', '?migrationId=a%20b']) {
      const res = await forge.invoke(`${hooks()}/status${query}`, { method: 'GET', token });
      expect([query, res.status, (res.body as { type?: string }).type]).toEqual([query, 400, 'forge/invalid-realm-migration']);
    }
    expect(seenBy(token.installationId)).toEqual([]);
  });

  it('verifies the FIT: typed 401 forge/* with a Bearer challenge, and another app’s token is refused', async () => {
    const token = newInstallation();
    const body = { migrationId: 1, location: 'EU' };
    const none = await forge.invoke(`${hooks()}/schedule`, { fit: null, body });
    expect([none.status, (none.body as { type: string }).type]).toEqual([401, 'forge/missing-token']);
    expect(none.headers['www-authenticate']).toBe(`Bearer realm="${jiraApp.key}"`);
    const expired = await forge.invoke(`${hooks()}/schedule`, { token: { ...token, expiresIn: -600 }, body });
    expect([expired.status, (expired.body as { type: string }).type]).toEqual([401, 'forge/expired']);
    const hmac = await forge.invoke(`${hooks()}/status?migrationId=1`, { method: 'GET', token: { ...token, alg: 'HS256' } });
    expect([hmac.status, (hmac.body as { type: string }).type]).toEqual([401, 'forge/unsupported-alg']);
    const otherApp = await forge.invoke(`${hooks()}/schedule`, { token: { ...token, appId: CONFLUENCE_FORGE_APP_ID }, body });
    expect([otherApp.status, (otherApp.body as { type: string }).type]).toEqual([401, 'forge/invalid-aud']);
    expect(seenBy(token.installationId)).toEqual([]);
  });

  it('serves the hooks under forgeRealmMigration.path (none with false), and refuses two handlers of one phase at bootstrap', async () => {
    @Module({
      imports: [
        ConnectModule.forRoot({
          apps: [partialApp],
          forge: { jwksUrl: forge.jwksUrl },
          forgeRealmMigration: { path: '/data-residency' },
          retention: { schedule: false },
          database,
        }),
      ],
      providers: [MigrationRecorder],
    })
    class CustomPathModule {}
    const custom = await createTestApp(CustomPathModule, { logger: false });
    try {
      await custom.listen(0, '127.0.0.1');
      const base = `http://127.0.0.1:${(custom.getHttpServer().address() as { port: number }).port}/partial`;
      const token = { ...newInstallation(), appId: PARTIAL_FORGE_APP_ID };
      const report = await forge.migrateRealm(`${base}/data-residency`, { ...fast, token });
      expect(report.outcome).toBe('committed');
      const old = await forge.invoke(`${base}/forge/realm-migration/schedule`, { token, body: { migrationId: 1, location: 'EU' } });
      expect(old.status).toBe(404);
    } finally {
      await custom.close();
    }

    @Module({
      imports: [ConnectModule.forRoot({ apps: [partialApp], forge: { jwksUrl: forge.jwksUrl }, forgeRealmMigration: { path: false }, retention: { schedule: false }, database })],
      providers: [MigrationRecorder],
    })
    class NoHooksModule {}
    const off = await createTestApp(NoHooksModule, { logger: false });
    try {
      await off.listen(0, '127.0.0.1');
      const base = `http://127.0.0.1:${(off.getHttpServer().address() as { port: number }).port}/partial`;
      const token = { ...newInstallation(), appId: PARTIAL_FORGE_APP_ID };
      const schedule = await forge.invoke(`${base}/forge/realm-migration/schedule`, { token, body: { migrationId: 1, location: 'EU' } });
      const status = await forge.invoke(`${base}/forge/realm-migration/status?migrationId=1`, { method: 'GET', token });
      expect([schedule.status, status.status]).toEqual([404, 404]);
    } finally {
      await off.close();
    }

    @Module({
      imports: [ConnectModule.forRoot({ apps: [partialApp], forge: { jwksUrl: forge.jwksUrl }, retention: { schedule: false }, database })],
      providers: [MigrationRecorder, SecondStatusHandler],
    })
    class TwoStatusHandlersModule {}
    const twice = await createTestApp(TwoStatusHandlersModule, { logger: false });
    try {
      await expect(twice.init()).rejects.toMatchObject({ code: 'config/invalid', message: expect.stringContaining('status of com.test.realm.partial has 2 handlers') });
    } finally {
      await twice.close().catch(() => undefined);
    }
  });
});
