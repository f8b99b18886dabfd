import type { IncomingHttpHeaders, Server } from 'node:http';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { ForgeDeliveryReport } from './fake-forge-delivery.js';
import { FakeForgeHost, SAMPLE_FORGE_ACCOUNT_ID } from './fake-forge-host.js';
import { closeServer, readBody, sendJson, sleep, startLoopbackServer } from './fake-http.js';

const APP_ID = '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11';

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Wait this long before answering. */
  delayMs?: number;
}

interface Received {
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: { payload: Record<string, unknown> };
  atMs: number;
}

/** A Forge Remote stand-in on 127.0.0.1 that answers from a script (the last answer repeats) and records every request. */
class ScriptedRemote {
  readonly received: Received[] = [];
  private script: Answer[] = [{ status: 200, body: { ok: true } }];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<ScriptedRemote> {
    let remote: ScriptedRemote | undefined;
    const { server, port } = await startLoopbackServer(0, async (req, res) => {
      const text = await readBody(req);
      remote!.received.push({ url: req.url, headers: req.headers, body: JSON.parse(text) as Received['body'], atMs: performance.now() });
      const answer = remote!.script.length > 1 ? remote!.script.shift()! : remote!.script[0]!;
      if (answer.delayMs !== undefined) await sleep(answer.delayMs);
      sendJson(res, answer.status, answer.body ?? {}, answer.headers);
    });
    remote = new ScriptedRemote(server, `http://127.0.0.1:${port}/app/forge/events`);
    return remote;
  }

  answer(...script: Answer[]): void {
    this.script = script;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }
}

const statuses = (report: ForgeDeliveryReport) => report.attempts.map((a) => a.status);
const retryContexts = (remote: ScriptedRemote) => remote.received.map((r) => r.body.payload.retryContext);
const bearer = (headers: IncomingHttpHeaders) => /^Bearer (\S+)$/.exec(headers.authorization ?? '')?.[1];

describe('FakeForgeHost deliveries of events and triggers', () => {
  let forge: FakeForgeHost;
  let remote: ScriptedRemote;
  let verifyFit: (token: string) => Promise<JWTPayload>;

  beforeAll(async () => {
    forge = await FakeForgeHost.start({ appId: APP_ID });
    const jwks = createRemoteJWKSet(new URL(forge.jwksUrl));
    verifyFit = async (token) => (await jwtVerify(token, jwks, { issuer: 'forge/invocation-token', audience: `ari:cloud:ecosystem::app/${APP_ID}` })).payload;
  });
  afterAll(async () => {
    await forge.close();
  });
  beforeEach(async () => {
    remote = await ScriptedRemote.start();
  });
  afterEach(async () => {
    await remote.close();
  });

  describe('bodies, as the framework reads them', () => {
    it('posts a product event as { payload: { eventType, …payload } }, with the system token and a FIT naming the endpoint without a principal', async () => {
      const report = await forge.sendEvent(remote.url, 'avi:jira:created:issue', { issue: { id: '10001', key: 'WEB-1' }, atlassianId: 'acc-1' }, { systemToken: 'sys-token' });
      expect(report).toEqual({ delivered: true, attempts: [expect.objectContaining({ status: 200, body: { ok: true }, retryContext: undefined })] });
      const [received] = remote.received;
      expect(received!.url).toBe('/app/forge/events');
      expect(received!.body).toEqual({ payload: { eventType: 'avi:jira:created:issue', issue: { id: '10001', key: 'WEB-1' }, atlassianId: 'acc-1' } });
      expect(received!.headers).toMatchObject({ 'x-forge-oauth-system': 'sys-token', 'content-type': 'application/json' });
      expect(received!.headers).not.toHaveProperty('x-forge-oauth-user');

      const fit = bearer(received!.headers)!;
      expect(fit).toBe(report.attempts[0]!.fit);
      const claims = await verifyFit(fit);
      expect(claims.app).toMatchObject({ module: { type: 'core:endpoint', key: 'forge-remote-endpoint' }, installationId: forge.installationId });
      expect(claims).not.toHaveProperty('principal');
    });

    it('sends no system token header unless given one', async () => {
      await forge.sendEvent(remote.url, 'avi:jira:updated:issue');
      expect(remote.received[0]!.body).toEqual({ payload: { eventType: 'avi:jira:updated:issue' } });
      expect(remote.received[0]!.headers).not.toHaveProperty('x-forge-oauth-system');
    });

    it('builds avi:forge:installed:app from the host’s installation, app and environment', async () => {
      await forge.sendInstalledEvent(remote.url, { appName: 'Hello Forge' });
      expect(remote.received[0]!.body).toEqual({
        payload: {
          eventType: 'avi:forge:installed:app',
          id: forge.installationId.slice('ari:cloud:ecosystem::installation/'.length),
          installerAccountId: SAMPLE_FORGE_ACCOUNT_ID,
          app: { id: APP_ID, version: '1.0.0', name: 'Hello Forge' },
          environment: { id: forge.environmentId },
        },
      });
      expect(forge.installationId).toMatch(/^ari:cloud:ecosystem::installation\/[0-9a-f-]{36}$/);
    });

    it('builds avi:forge:upgraded:app with upgraderAccountId, the new version also in the FIT', async () => {
      await forge.sendUpgradedEvent(remote.url, { appVersion: '2.1.0', accountId: 'upgrader-9' });
      const { payload } = remote.received[0]!.body;
      expect(payload).toEqual({
        eventType: 'avi:forge:upgraded:app',
        id: forge.installationId.slice('ari:cloud:ecosystem::installation/'.length),
        upgraderAccountId: 'upgrader-9',
        app: { id: APP_ID, version: '2.1.0' },
        environment: { id: forge.environmentId },
      });
      expect((await verifyFit(bearer(remote.received[0]!.headers)!)).app).toMatchObject({ appVersion: '2.1.0' });
    });

    it('fires a scheduled trigger as { payload: { context: { cloudId, moduleKey }, contextToken } }', async () => {
      await forge.runScheduledTrigger(remote.url, 'hourly-sync');
      await forge.runScheduledTrigger(remote.url, 'hourly-sync', { contextToken: 'given-context' });
      const [first, second] = remote.received.map((r) => r.body);
      expect(first).toEqual({ payload: { context: { cloudId: forge.cloudId, moduleKey: 'hourly-sync' }, contextToken: expect.stringMatching(/^[\w-]{20,}$/) } });
      expect(second).toEqual({ payload: { context: { cloudId: forge.cloudId, moduleKey: 'hourly-sync' }, contextToken: 'given-context' } });
    });

    it('runs preUninstall with the same body shape, for a named or the default module', async () => {
      await forge.runPreUninstall(remote.url, 'cleanup', { systemToken: 'sys' });
      await forge.runPreUninstall(remote.url);
      expect(remote.received.map((r) => r.body.payload.context)).toEqual([
        { cloudId: forge.cloudId, moduleKey: 'cleanup' },
        { cloudId: forge.cloudId, moduleKey: 'pre-uninstall' },
      ]);
      expect(typeof remote.received[0]!.body.payload.contextToken).toBe('string');
      expect(remote.received[0]!.headers['x-forge-oauth-system']).toBe('sys');
    });

    it('takes FIT overrides, the endpoint key, Host and further headers', async () => {
      await forge.sendEvent(
        remote.url,
        'avi:jira:deleted:issue',
        {},
        { endpointKey: 'issue-events', token: { principal: 'acc-2' }, host: 'app.example', headers: { 'x-extra': '1' } },
      );
      const { headers } = remote.received[0]!;
      expect(headers).toMatchObject({ host: 'app.example', 'x-extra': '1' });
      const claims = await verifyFit(bearer(headers)!);
      expect(claims).toMatchObject({ principal: 'acc-2', app: { module: { type: 'core:endpoint', key: 'issue-events' } } });
    });
  });

  describe('redeliveries', () => {
    it('redelivers after a 500 with retryContext.retryCount 1, about retryDelayMs later, with a fresh FIT', async () => {
      remote.answer({ status: 500, body: { message: 'boom' } }, { status: 200, body: { ok: true } });
      const report = await forge.sendEvent(remote.url, 'avi:jira:created:issue', { issue: { key: 'WEB-2' } }, { retryDelayMs: 150 });
      expect(report.delivered).toBe(true);
      expect(report.attempts.map(({ status, body, retryContext }) => ({ status, body, retryContext }))).toEqual([
        { status: 500, body: { message: 'boom' }, retryContext: undefined },
        { status: 200, body: { ok: true }, retryContext: { retryCount: 1, retryReason: 'INVALID_REMOTE_INVOCATION_ERROR', retryData: null } },
      ]);
      expect(retryContexts(remote)).toEqual([undefined, { retryCount: 1, retryReason: 'INVALID_REMOTE_INVOCATION_ERROR', retryData: null }]);
      // The rest of the payload is the same on the redelivery.
      expect(remote.received.map((r) => r.body.payload.issue)).toEqual([{ key: 'WEB-2' }, { key: 'WEB-2' }]);
      expect(remote.received[1]!.atMs - remote.received[0]!.atMs).toBeGreaterThanOrEqual(140);

      const fits = remote.received.map((r) => bearer(r.headers)!);
      expect(fits).toEqual(report.attempts.map((a) => a.fit));
      expect(new Set(fits).size).toBe(2);
      for (const fit of fits) {
        const claims = await verifyFit(fit);
        expect((claims.app as { module: unknown }).module).toEqual({ type: 'core:endpoint', key: 'forge-remote-endpoint' });
        expect(claims).not.toHaveProperty('principal');
      }
    });

    it('counts an answer later than timeoutMs as a timeout and says TIMEOUT_ERROR on the next delivery', async () => {
      remote.answer({ status: 200, delayMs: 1000 }, { status: 200, body: { ok: true } });
      const report = await forge.runScheduledTrigger(remote.url, 'hourly-sync', { timeoutMs: 150, retryDelayMs: 1 });
      expect(statuses(report)).toEqual(['timeout', 200]);
      expect(report.attempts[0]!.body).toBeUndefined();
      expect(report.attempts[0]!.durationMs).toBeGreaterThanOrEqual(140);
      expect(report.attempts[0]!.durationMs).toBeLessThan(900);
      expect(report.attempts[1]!.retryContext).toEqual({ retryCount: 1, retryReason: 'TIMEOUT_ERROR', retryData: null });
      expect(retryContexts(remote)[1]).toEqual({ retryCount: 1, retryReason: 'TIMEOUT_ERROR', retryData: null });
    });

    it('treats a redirect as a failure and does not follow it', async () => {
      remote.answer({ status: 302, headers: { location: '/elsewhere' } }, { status: 200 });
      const report = await forge.sendEvent(remote.url, 'avi:jira:created:issue', {}, { retryDelayMs: 1 });
      expect(statuses(report)).toEqual([302, 200]);
      expect(remote.received.map((r) => r.url)).toEqual(['/app/forge/events', '/app/forge/events']);
      expect(report.attempts[1]!.retryContext?.retryReason).toBe('INVALID_REMOTE_INVOCATION_ERROR');
    });

    it('says INVALID_FORGE_INVOCATION_TOKEN after a 401', async () => {
      remote.answer({ status: 401, body: { code: 'forge/invalid-token' } }, { status: 204 });
      const report = await forge.runPreUninstall(remote.url, 'cleanup', { retryDelayMs: 1 });
      expect(statuses(report)).toEqual([401, 204]);
      expect(report.delivered).toBe(true);
      expect(retryContexts(remote)[1]).toEqual({ retryCount: 1, retryReason: 'INVALID_FORGE_INVOCATION_TOKEN', retryData: null });
    });

    it('gives up after `retries` redeliveries, counting each', async () => {
      remote.answer({ status: 503 });
      const report = await forge.sendEvent(remote.url, 'avi:jira:created:issue', {}, { retries: 2, retryDelayMs: 1 });
      expect(report.delivered).toBe(false);
      expect(statuses(report)).toEqual([503, 503, 503]);
      expect(remote.received).toHaveLength(3);
      expect(retryContexts(remote).map((c) => (c as { retryCount: number } | undefined)?.retryCount)).toEqual([undefined, 1, 2]);
    });

    it('redelivers 4 times by default (5 attempts), mixing the reasons of the failures before', async () => {
      remote.answer({ status: 500 }, { status: 401 }, { status: 200, delayMs: 400 }, { status: 301, headers: { location: '/x' } }, { status: 418 });
      const report = await forge.sendInstalledEvent(remote.url, { retryDelayMs: 1, timeoutMs: 100 });
      expect(report.delivered).toBe(false);
      expect(statuses(report)).toEqual([500, 401, 'timeout', 301, 418]);
      expect(report.attempts.map((a) => a.retryContext?.retryReason)).toEqual([
        undefined,
        'INVALID_REMOTE_INVOCATION_ERROR',
        'INVALID_FORGE_INVOCATION_TOKEN',
        'TIMEOUT_ERROR',
        'INVALID_REMOTE_INVOCATION_ERROR',
      ]);
      expect(report.attempts.map((a) => a.retryContext?.retryCount)).toEqual([undefined, 1, 2, 3, 4]);
      expect(new Set(report.attempts.map((a) => a.fit)).size).toBe(5);
    });

    it('reports a refused connection as a network error and retries it', async () => {
      const gone = remote.url;
      await remote.close();
      const report = await forge.sendEvent(gone, 'avi:jira:created:issue', {}, { retries: 1, retryDelayMs: 1 });
      expect(report.delivered).toBe(false);
      expect(statuses(report)).toEqual(['network-error', 'network-error']);
      expect(report.attempts[0]!.body).toEqual(expect.stringMatching(/ECONNREFUSED/));
      expect(report.attempts[1]!.retryContext?.retryReason).toBe('INVALID_REMOTE_INVOCATION_ERROR');
    });

    it('waits 5 s for a trigger and 55 s for preUninstall by default', async () => {
      remote.answer({ status: 200, delayMs: 5400 });
      const [trigger, preUninstall] = await Promise.all([
        forge.runScheduledTrigger(remote.url, 'hourly-sync', { retries: 0 }),
        forge.runPreUninstall(remote.url, 'cleanup', { retries: 0 }),
      ]);
      expect(statuses(trigger)).toEqual(['timeout']);
      expect(trigger.attempts[0]!.durationMs).toBeGreaterThanOrEqual(4900);
      expect(trigger.attempts[0]!.durationMs).toBeLessThan(5400);
      expect(statuses(preUninstall)).toEqual([200]);
    }, 20_000);

    it('refuses nonsense counts', async () => {
      await expect(forge.sendEvent(remote.url, 'avi:jira:created:issue', {}, { retries: -1 })).rejects.toThrow(TypeError);
      await expect(forge.sendEvent(remote.url, 'avi:jira:created:issue', {}, { timeoutMs: 0 })).rejects.toThrow(TypeError);
      expect(remote.received).toEqual([]);
    });
  });
});
