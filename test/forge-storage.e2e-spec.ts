import { randomUUID } from 'node:crypto';

import { Body, Controller, HttpCode, Module, Post, type INestApplication } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  CONNECT_DATA_SOURCE,
  ConnectModule,
  ForgeAuth,
  ForgeContext,
  ForgeStorage,
  ForgeStorageError,
  StorageConditions,
  allOf,
  anyOf,
  type ForgeInvocationContext,
  type StorageValue,
} from 'atlassian-connect-nest';
import {
  FakeConnectHost,
  FakeForgeHost,
  FakeForgeStorage,
  LOOPBACK_HOST_PATTERNS,
  startTestDatabase,
  type FakeApiSite,
  type FakeForgeTokens,
  type HttpCallResponse,
} from 'atlassian-connect-nest/testing';
import { createTestApp } from './support/http-adapter.js';
import { LogCapture } from './support/log-capture.js';

const FORGE_APP_ID = randomUUID();
const app = { key: 'com.test.forge-storage', product: 'jira' as const, baseUrl: 'https://forge-storage.example.test/jira' };
const MAX_ATTEMPTS = 4;

/** A Forge Remote route that stores with the call's own system token and lets storage errors through. */
@Controller('forge/storage')
class StorageController {
  constructor(private readonly storage: ForgeStorage) {}

  @Post('kv')
  @HttpCode(200)
  @ForgeAuth()
  async kv(@ForgeContext() forge: ForgeInvocationContext, @Body() body: { key: string; value?: StorageValue; repeat?: number }) {
    const storage = this.storage.forInstallation(forge);
    // `repeat`: a long string made here, larger than a request body the app would take.
    await storage.set(body.key, body.repeat !== undefined ? 'x'.repeat(body.repeat) : body.value!);
    return { stored: await storage.get(body.key) };
  }
}

const newInstallation = () => `ari:cloud:ecosystem::installation/${randomUUID()}`;

describe('ForgeStorage against the fake Forge storage API', () => {
  const logs = new LogCapture();
  let nest: INestApplication;
  let host: FakeConnectHost;
  let forgeHost: FakeForgeHost;
  let fake: FakeForgeStorage;
  let site: FakeApiSite;
  let tokens: FakeForgeTokens;
  let via: string;
  let stopDatabase: () => Promise<void>;

  beforeAll(async () => {
    host = await FakeConnectHost.start();
    forgeHost = await FakeForgeHost.start({ appId: FORGE_APP_ID });
    fake = await FakeForgeStorage.start({
      entities: [
        {
          name: 'task',
          attributes: { status: { type: 'string' }, due: { type: 'integer' }, title: { type: 'string' }, done: { type: 'boolean' } },
          indexes: ['title', { name: 'by-status-due', partition: ['status'], range: ['due'] }],
        },
      ],
    });
    const db = process.env.DATABASE_URL ? await startTestDatabase() : undefined;
    stopDatabase = async () => db?.stop();
    @Module({
      imports: [
        ConnectModule.forRoot({
          apps: [{ ...app, descriptor: { name: 'S' }, forge: { appId: FORGE_APP_ID }, allowedHostPatterns: LOOPBACK_HOST_PATTERNS }],
          installKeysUrl: host.installKeysUrl,
          forge: { jwksUrl: forgeHost.jwksUrl, storageApiBaseUrl: fake.baseUrl },
          database: db ? { url: db.url, schema: db.schema, poolSize: db.poolSize } : { embeddedDataDir: 'memory' },
          client: { retry: { maxAttempts: MAX_ATTEMPTS, baseDelayMs: 5, maxDelayMs: 50 } },
        }),
      ],
      controllers: [StorageController],
    })
    class ForgeStorageTestModule {}
    nest = await createTestApp(ForgeStorageTestModule, { logger: logs });
    await nest.listen(0, '127.0.0.1');
    via = `http://127.0.0.1:${(nest.getHttpServer().address() as { port: number }).port}`;
    site = await host.startSite('jira');
    fake.trust(site.forge);
    tokens = site.forge.issueTokens({ installationId: site.installationId, appId: FORGE_APP_ID });
  });

  afterAll(async () => {
    await nest?.close();
    await fake?.close();
    await host?.close();
    await forgeHost?.close();
    await stopDatabase?.();
  });

  beforeEach(() => fake.reset());

  function invoke(body: unknown, options: { tokens?: FakeForgeTokens; system?: boolean } = {}): Promise<HttpCallResponse> {
    const using = options.tokens ?? tokens;
    return forgeHost.invoke(`${via}/forge/storage/kv`, {
      body,
      token: { appId: FORGE_APP_ID, installationId: using.installationId, apiBaseUrl: using.apiBaseUrl, principal: using.accountId },
      ...(options.system !== false && { systemToken: using.systemToken }),
    });
  }

  /** A fresh installation whose system token the app saved from a Forge call (for work outside a request). */
  async function savedInstallation(): Promise<{ installationId: string; tokens: FakeForgeTokens }> {
    const installationId = newInstallation();
    const issued = site.forge.issueTokens({ installationId, appId: FORGE_APP_ID });
    expect((await invoke({ key: 'seen', value: true }, { tokens: issued })).status).toBe(200);
    fake.reset();
    return { installationId, tokens: issued };
  }

  const storageOf = (installationId: string) => nest.get(ForgeStorage).forInstallation({ appKey: app.key, installationId });
  const dataSource = () => nest.get<DataSource>(getDataSourceToken(CONNECT_DATA_SOURCE));

  describe('inside a Forge call', () => {
    it('stores and reads with the call’s system token, in that installation’s storage', async () => {
      const response = await invoke({ key: 'settings', value: { theme: 'dark', size: 3 } });
      expect(response).toMatchObject({ status: 200, body: { stored: { theme: 'dark', size: 3 } } });
      expect(fake.requests.map((r) => [r.operation, r.installationId, r.status])).toEqual([
        ['v1/set', site.installationId, 204],
        ['v1/get', site.installationId, 200],
      ]);
      expect(fake.requests[0]!.body).toEqual({ key: 'settings', value: { theme: 'dark', size: 3 } });
      expect(fake.requests[0]!.headers.authorization).toBe('Bearer …');
      expect(fake.valueOf(site.installationId, 'settings')).toEqual({ theme: 'dark', size: 3 });
      expect(logs.all).not.toContain(tokens.systemToken);
    });

    it('a call without the system token is storage/token-missing (503) naming the manifest setting, and nothing is sent', async () => {
      const response = await invoke({ key: 'settings', value: 1 }, { system: false });
      expect(response.status).toBe(503);
      expect(response.body).toMatchObject({ type: 'storage/token-missing', message: expect.stringContaining('auth.appSystemToken: true') });
      expect(fake.requests).toEqual([]);
    });

    it('a value over 240 KiB is storage/too-large (413) before anything is sent', async () => {
      const response = await invoke({ key: 'big', repeat: 240 * 1024 + 1 });
      expect(response).toMatchObject({ status: 413, body: { type: 'storage/too-large' } });
      expect(fake.requests).toEqual([]);
    });
  });

  describe('outside a request, with the saved token', () => {
    it('key-value: typed get, metadata, FAIL_IF_EXISTS conflict, returnValue, delete (also of a missing key)', async () => {
      const { installationId } = await savedInstallation();
      const storage = storageOf(installationId);
      await storage.set('counter', 41);
      const counter: number | undefined = await storage.get<number>('counter');
      expect(counter).toBe(41);
      expect(await storage.get('counter', { metadataFields: ['CREATED_AT', 'UPDATED_AT'] })).toEqual({
        key: 'counter',
        value: 41,
        createdAt: expect.any(Number),
        updatedAt: expect.any(Number),
      });
      await expect(storage.set('counter', 1, { keyPolicy: 'FAIL_IF_EXISTS' })).rejects.toMatchObject({ code: 'storage/conflict', status: 409, apiCode: 'KEY_ALREADY_EXISTS' });
      expect(await storage.set('counter', 42, { returnValue: 'PREVIOUS' })).toMatchObject({ key: 'counter', value: 41 });
      expect(await storage.get('missing')).toBeUndefined();
      await storage.delete('counter');
      await storage.delete('counter');
      expect(await storage.get('counter')).toBeUndefined();
      expect(fake.requests.every((r) => r.installationId === installationId)).toBe(true);
      expect(fake.requests.find((r) => r.operation === 'v1/set' && (r.body as { options?: unknown }).options !== undefined)?.body).toEqual({
        key: 'counter',
        value: 1,
        options: { keyPolicy: 'FAIL_IF_EXISTS' },
      });
    });

    it('secrets are kept apart and never returned by query', async () => {
      const { installationId } = await savedInstallation();
      const storage = storageOf(installationId);
      await storage.setSecret('api-key', { token: 's3cr3t' });
      await storage.set('plain', 'visible');
      expect(await storage.getSecret<{ token: string }>('api-key')).toEqual({ token: 's3cr3t' });
      expect(await storage.get('api-key')).toBeUndefined();
      // `seen` was stored by the Forge call that saved the token.
      expect((await storage.query().toArray()).map((entry) => entry.key)).toEqual(['plain', 'seen']);
      await storage.deleteSecret('api-key');
      expect(await storage.getSecret('api-key')).toBeUndefined();
      expect(fake.requests.map((r) => r.operation)).toContain('v1/secret/set');
    });

    it('query walks every page by cursor, in key order, under a prefix', async () => {
      const { installationId } = await savedInstallation();
      const storage = storageOf(installationId);
      const keys = Array.from({ length: 23 }, (_, i) => `item:${String(i).padStart(2, '0')}`);
      for (let i = 0; i < keys.length; i += 10) await storage.batchSet(keys.slice(i, i + 10).map((key, j) => ({ key, value: i + j })));
      await storage.set('other', 'not under the prefix');
      fake.reset();
      const seen: string[] = [];
      for await (const entry of storage.query<number>({ prefix: 'item:', pageSize: 7 })) seen.push(entry.key);
      expect(seen).toEqual(keys);
      const queries = fake.requests.filter((r) => r.operation === 'v1/query');
      expect(queries).toHaveLength(4);
      expect(queries[0]!.body).toEqual({ limit: 7, where: [{ property: 'key', condition: 'BEGINS_WITH', values: ['item:'] }] });
      expect(queries[1]!.body).toMatchObject({ after: expect.any(String) });
      const first = await storage.query({ prefix: 'item:', pageSize: 20 }).page();
      expect(first.results).toHaveLength(20);
      const rest = await storage.query({ prefix: 'item:', pageSize: 20 }).page(first.nextCursor);
      expect(rest).toEqual({ results: keys.slice(20).map((key, i) => ({ key, value: 20 + i })) });
      expect(() => storage.query({ pageSize: 21 })).toThrow(expect.objectContaining({ code: 'storage/invalid-request' }));
    });

    it('custom entities: partition, where on the range, sort, filters, paging; a bad index or attribute is refused', async () => {
      const { installationId } = await savedInstallation();
      const tasks = storageOf(installationId).entity<{ status: string; due: number; title: string; done?: boolean }>('task');
      const rows = [
        ['t1', 'open', 20260105, 'alpha'],
        ['t2', 'open', 20260101, 'beta'],
        ['t3', 'closed', 20260102, 'gamma'],
        ['t4', 'open', 20260301, 'delta'],
        ['t5', 'open', 20260110, 'alphabet'],
      ] as const;
      for (const [key, status, due, title] of rows) await tasks.set(key, { status, due, title });
      expect(await tasks.get('t3')).toEqual({ status: 'closed', due: 20260102, title: 'gamma' });

      const open = await tasks.query({ index: 'by-status-due', partition: ['open'], where: StorageConditions.lessThan(20260200) }).toArray();
      expect(open.map((entry) => entry.key)).toEqual(['t2', 't1', 't5']);
      const latestFirst = await tasks.query({ index: 'by-status-due', partition: ['open'], sort: 'DESC' }).toArray();
      expect(latestFirst.map((entry) => entry.key)).toEqual(['t4', 't5', 't1', 't2']);
      const between = await tasks.query({ index: 'by-status-due', partition: ['open'], where: StorageConditions.between(20260101, 20260105) }).toArray();
      expect(between.map((entry) => entry.key)).toEqual(['t2', 't1']);
      const titled = await tasks.query({ index: 'title', where: StorageConditions.beginsWith('alpha') }).toArray();
      expect(titled.map((entry) => entry.key)).toEqual(['t1', 't5']);
      const filtered = await tasks
        .query({ index: 'by-key', filters: anyOf(['title', StorageConditions.contains('amm')], ['due', StorageConditions.greaterThanEqualTo(20260301)]) })
        .toArray();
      expect(filtered.map((entry) => entry.key)).toEqual(['t3', 't4']);

      fake.reset();
      const paged: string[] = [];
      for await (const entry of tasks.query({ index: 'by-status-due', partition: ['open'], pageSize: 3 })) paged.push(entry.key);
      expect(paged).toEqual(['t2', 't1', 't5', 't4']);
      const sent = fake.requests.map((r) => r.body as Record<string, unknown>);
      expect(sent).toHaveLength(2);
      expect(sent[0]).toEqual({ entityName: 'task', indexName: 'by-status-due', partition: ['open'], limit: 3 });
      expect(sent[1]).toMatchObject({ cursor: expect.any(String) });

      await expect(tasks.query({ index: 'no-such-index' }).toArray()).rejects.toMatchObject({ code: 'storage/invalid-request', status: 400, apiCode: 'INVALID_ENTITY_INDEX' });
      await expect(tasks.set('t9', { status: 'open', due: 'soon' as unknown as number, title: 'x' })).rejects.toMatchObject({
        code: 'storage/invalid-request',
        apiCode: 'INVALID_ENTITY_VALUE',
      });
      expect(() => tasks.query({ index: 'by-status-due', where: StorageConditions.contains('x') })).toThrow(expect.objectContaining({ code: 'storage/invalid-request' }));
      await tasks.delete('t1');
      expect(await tasks.get('t1')).toBeUndefined();
    });

    it('batches: set, get and delete up to 25; more is refused before sending', async () => {
      const { installationId } = await savedInstallation();
      const storage = storageOf(installationId);
      const set = await storage.batchSet([
        { key: 'a', value: 1 },
        { key: 'b', value: { nested: true } },
        { key: 't7', entityName: 'task', value: { status: 'open', due: 1, title: 'seven' } },
        { key: 't8', entityName: 'task', value: { status: 'open', due: 'bad' } },
      ]);
      expect(set.successfulKeys).toEqual([{ key: 'a' }, { key: 'b' }, { key: 't7', entityName: 'task' }]);
      expect(set.failedKeys).toEqual([{ key: 't8', entityName: 'task', error: { code: 'INVALID_ENTITY_VALUE', message: expect.any(String) } }]);
      const got = await storage.batchGet<unknown>([{ key: 'a' }, { key: 'missing' }, { key: 't7', entityName: 'task' }]);
      expect(got.successfulKeys).toEqual([
        { key: 'a', value: 1 },
        { key: 't7', entityName: 'task', value: { status: 'open', due: 1, title: 'seven' } },
      ]);
      expect(got.failedKeys).toEqual([{ key: 'missing', error: { code: 'KEY_NOT_FOUND', message: expect.any(String) } }]);
      expect((await storage.batchDelete([{ key: 'a' }, { key: 'b' }])).successfulKeys).toHaveLength(2);
      expect(fake.valueOf(installationId, 'a')).toBeUndefined();
      fake.reset();
      const tooMany = Array.from({ length: 26 }, (_, i) => ({ key: `k${i}`, value: i }));
      await expect(storage.batchSet(tooMany)).rejects.toMatchObject({ code: 'storage/invalid-request', status: undefined });
      await expect(storage.batchDelete([{ key: 'same' }, { key: 'same' }])).rejects.toMatchObject({ code: 'storage/invalid-request' });
      expect(fake.requests).toEqual([]);
    });

    it('transactions are all or nothing: a failed check is storage/conflict and changes nothing', async () => {
      const { installationId } = await savedInstallation();
      const storage = storageOf(installationId);
      await storage.entity('task').set('job', { status: 'open', due: 5, title: 'job' });
      await storage.set('gone', 'soon');
      const failing = storage
        .transaction()
        .set('log', 'closed job')
        .delete('gone')
        .check('job', { name: 'task', conditions: allOf(['status', StorageConditions.equalTo('closed')]) });
      await expect(failing.execute()).rejects.toMatchObject({ code: 'storage/conflict', status: 409 });
      expect(fake.valueOf(installationId, 'log')).toBeUndefined();
      expect(fake.valueOf(installationId, 'gone')).toBe('soon');

      await storage
        .transaction()
        .set('log', 'closed job')
        .delete('gone')
        .set('job', { status: 'closed', due: 5, title: 'job' }, { name: 'task', conditions: allOf(['status', StorageConditions.equalTo('open')]) })
        .execute();
      expect(fake.valueOf(installationId, 'log')).toBe('closed job');
      expect(fake.valueOf(installationId, 'gone')).toBeUndefined();
      expect(fake.valueOf(installationId, 'job', { entityName: 'task' })).toMatchObject({ status: 'closed' });
      expect(fake.requests.at(-1)!.body).toEqual({
        set: [
          { key: 'log', value: 'closed job' },
          {
            key: 'job',
            value: { status: 'closed', due: 5, title: 'job' },
            entityName: 'task',
            conditions: { and: [{ property: 'status', condition: 'EQUAL_TO', values: ['open'] }] },
          },
        ],
        delete: [{ key: 'gone' }],
      });
      fake.reset();
      await expect(storage.transaction().set('x', 1).delete('x').execute()).rejects.toMatchObject({ code: 'storage/invalid-request' });
      expect(fake.requests).toEqual([]);
    });

    it('429s are retried like the outbound client’s; when they persist, storage/rate-limited', async () => {
      const { installationId } = await savedInstallation();
      const storage = storageOf(installationId);
      fake.failNext(2);
      await storage.set('retried', 'yes');
      expect(fake.requests.map((r) => r.status)).toEqual([429, 429, 204]);
      expect(fake.valueOf(installationId, 'retried')).toBe('yes');

      fake.reset();
      fake.failNext(MAX_ATTEMPTS + 5);
      const failure = await storage.get('retried').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ForgeStorageError);
      expect(failure).toMatchObject({ code: 'storage/rate-limited', status: 429, apiCode: 'RATE_LIMIT_EXCEEDED', retries: MAX_ATTEMPTS - 1 });
      expect(fake.requests).toHaveLength(MAX_ATTEMPTS);

      // A write that must not happen twice (FAIL_IF_EXISTS) is sent once.
      fake.reset();
      fake.failNext(1);
      await expect(storage.set('once', 1, { keyPolicy: 'FAIL_IF_EXISTS' })).rejects.toMatchObject({ code: 'storage/rate-limited' });
      expect(fake.requests).toHaveLength(1);
      fake.reset();
      fake.failNext(MAX_ATTEMPTS, { status: 503 });
      await expect(storage.delete('retried')).rejects.toMatchObject({ code: 'storage/unavailable', status: 503 });
    });

    it('no saved token, or an expired one, is storage/token-missing and nothing is sent', async () => {
      await expect(storageOf(newInstallation()).get('x')).rejects.toMatchObject({ code: 'storage/token-missing', message: expect.stringContaining('has been seen') });
      const { installationId } = await savedInstallation();
      await dataSource().query(`UPDATE "connect_forge_installation" SET "system_token_expires_at" = now() - interval '1 minute' WHERE "installation_id" = $1`, [installationId]);
      await expect(storageOf(installationId).set('x', 1)).rejects.toMatchObject({ code: 'storage/token-missing', message: expect.stringContaining('expired') });
      expect(fake.requests).toEqual([]);
    });

    it('a saved token the storage API refuses (401) is storage/unauthorized and dropped', async () => {
      const { installationId, tokens: issued } = await savedInstallation();
      site.forge.revoke(issued.systemToken);
      const storage = storageOf(installationId);
      await expect(storage.get('x')).rejects.toMatchObject({ code: 'storage/unauthorized', status: 401 });
      expect(fake.requests).toHaveLength(1);
      await expect(storageOf(installationId).get('x')).rejects.toMatchObject({ code: 'storage/token-missing' });
      expect(fake.requests).toHaveLength(1);
      expect(logs.all).not.toContain(issued.systemToken);
    });

    it('bad keys, deep or large values and bad options are refused before sending', async () => {
      const { installationId } = await savedInstallation();
      const storage = storageOf(installationId);
      let deep: StorageValue = { leaf: 1 };
      for (let i = 0; i < 31; i++) deep = { deep };
      const refusals = await Promise.all([
        storage.set('', 1).catch((e: unknown) => e),
        storage.set('x'.repeat(501), 1).catch((e: unknown) => e),
        storage.set('bad/key', 1).catch((e: unknown) => e),
        storage.set('   ', 1).catch((e: unknown) => e),
        storage.set('deep', deep).catch((e: unknown) => e),
        storage.set('big', { text: 'é'.repeat(125 * 1024) }).catch((e: unknown) => e),
        storage.set('ttl', 1, { ttl: { value: 400, unit: 'DAYS' } }).catch((e: unknown) => e),
        storage.set('both', 1, { keyPolicy: 'FAIL_IF_EXISTS', returnValue: 'LATEST' }).catch((e: unknown) => e),
        storage
          .entity('Bad_Name')
          .get('x')
          .catch((e: unknown) => e),
      ]);
      expect(refusals.map((error) => (error as ForgeStorageError).code)).toEqual([
        'storage/invalid-request',
        'storage/invalid-request',
        'storage/invalid-request',
        'storage/invalid-request',
        'storage/too-large',
        'storage/too-large',
        'storage/invalid-request',
        'storage/invalid-request',
        'storage/invalid-request',
      ]);
      expect(fake.requests).toEqual([]);
      // Keys of the documented set are fine: letters, digits, whitespace and : . _ - #.
      await storage.set('a:b.c_d-e#f g', 'ok');
      expect(await storage.get('a:b.c_d-e#f g')).toBe('ok');
    });

    it('an installationId alone works when one app has forge.appId', async () => {
      const { installationId } = await savedInstallation();
      await nest.get(ForgeStorage).forInstallation(installationId).set('plain-id', true);
      expect(fake.valueOf(installationId, 'plain-id')).toBe(true);
      expect(() => nest.get(ForgeStorage).forInstallation({ appKey: 'com.not.configured', installationId })).toThrow(expect.objectContaining({ code: 'storage/invalid-request' }));
    });
  });
});
