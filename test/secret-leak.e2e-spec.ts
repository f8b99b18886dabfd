import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Injectable } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { CONNECT_DATA_SOURCE, OnInstalled, type ConnectLifecycleEvent } from 'atlassian-connect-nest';
import { SecretCipher } from 'atlassian-connect-nest/advanced';
import { FakeConnectHost, FakeForgeHost, forgeSystemAccountId, type FakeApiSite, type FakeHostApp, type FakeSite, type HttpCallResponse } from 'atlassian-connect-nest/testing';
import type { DataSource } from 'typeorm';

import { AppModule } from '../src/example/app.module.js';
import { startExample, type RunningExample } from './support/example-app.js';
import { createTestApp } from './support/http-adapter.js';
import { LogCapture } from './support/log-capture.js';

/** clientKeys whose install hook fails on purpose. */
const failingClientKeys = new Set<string>();

@Injectable()
class FailingHook {
  @OnInstalled()
  installed(event: ConnectLifecycleEvent): void {
    if (failingClientKeys.has(event.tenant.clientKey)) throw new Error('the onboarding hook exploded');
  }
}

/** A JWT (three base64url parts, the first two JSON objects). */
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/;
/** An access token of the fake authorization server. */
const ACCESS_TOKEN = /fake-at-[A-Za-z0-9_-]{16,}/;
/** The example's Jira app is also this Forge app (FORGE_APP_ID_JIRA). */
const FORGE_APP_ID = '3c5e2f60-8d1b-4f2a-9e47-6b0a1c2d3e4f';

/**
 * Runs the main flows against the real example app with every log level captured, and fails when a
 * shared secret, a token, the encryption key or an install payload shows up in a log line, a response
 * body or a response header, or when the tenant table holds a secret (or the Forge installation table
 * an app system token) in plaintext.
 */
describe('secrets never leak', () => {
  const logs = new LogCapture();
  const encryptionKey = randomBytes(32).toString('base64');
  const forbidden = new Set<string>([encryptionKey]);
  const payloads: string[] = [];
  const responses: { what: string; response: HttpCallResponse }[] = [];
  const secrets: string[] = [];
  /** The `x-forge-oauth-system` tokens sent; the example saves them. */
  const systemTokens: string[] = [];
  let ex: RunningExample;
  let host: FakeConnectHost;
  let forge: FakeForgeHost;
  let jiraSite: FakeApiSite;
  let confluenceSite: FakeApiSite;
  const started = Date.now();

  function keep(what: string, response: HttpCallResponse): HttpCallResponse {
    responses.push({ what, response });
    return response;
  }

  function remember(site: FakeSite): FakeSite {
    forbidden.add(site.sharedSecret);
    secrets.push(site.sharedSecret);
    return site;
  }

  async function install(app: FakeHostApp, site: FakeSite, expected = 204): Promise<void> {
    remember(site);
    const payload = JSON.stringify(host.lifecyclePayload(app, site, 'installed'));
    payloads.push(payload);
    const response = keep(`install ${site.clientKey}`, await host.install(app, site));
    expect(response.status).toBe(expected);
  }

  async function call(
    app: FakeHostApp,
    site: FakeSite,
    path: string,
    options: { accountId?: string; secret?: string; expiresIn?: number; url?: string; header?: (token: string) => string } = {},
  ): Promise<HttpCallResponse> {
    const token = await host.tokenFor(app, { ...site, sharedSecret: options.secret ?? site.sharedSecret }, 'GET', options.url ?? path, {
      ...(options.accountId && { accountId: options.accountId }),
      ...(options.expiresIn !== undefined && { expiresIn: options.expiresIn }),
    });
    forbidden.add(token);
    const authorization = options.header ? options.header(token) : `JWT ${token}`;
    return keep(`GET ${path}`, await host.send(app, 'GET', path, { headers: { authorization } }));
  }

  beforeAll(async () => {
    host = await FakeConnectHost.start();
    forge = await FakeForgeHost.start({ appId: FORGE_APP_ID });
    ex = await startExample({ encryptionKeys: [encryptionKey], forgeAppIdJira: FORGE_APP_ID, forgeJwksUrl: forge.jwksUrl }, host, logs, [FailingHook]);
    jiraSite = await host.startSite('jira');
    confluenceSite = await host.startSite('confluence');
  });

  afterAll(async () => {
    await ex?.close();
    await host?.close();
    await forge?.close();
    // eslint-disable-next-line no-console
    console.info(`secret-leak e2e on ${process.env.DATABASE_URL ? 'postgres' : 'embedded'}: ${Date.now() - started} ms`);
  });

  it('runs the flows', async () => {
    const jira = { ...ex.jira, scopes: ['READ', 'ACT_AS_USER'] };
    const confluence = { ...ex.confluence, scopes: ['READ', 'ACT_AS_USER'] };

    // Signed installs, then authenticated calls, inbound and outbound (as the app and as a user).
    await install(jira, jiraSite);
    await install(confluence, confluenceSite);
    expect((await call(jira, jiraSite, '/jira/api/whoami')).status).toBe(200);
    expect((await call(jira, jiraSite, '/jira/api/app-view')).status).toBe(200);
    expect((await call(jira, jiraSite, '/jira/api/user-view', { accountId: 'user-1' })).status).toBe(200);
    expect((await call(confluence, confluenceSite, '/confluence/api/app-view')).status).toBe(200);
    expect((await call(confluence, confluenceSite, '/confluence/api/user-view', { accountId: 'user-2' })).status).toBe(200);

    // Re-install with a rotated secret: the old secret is refused, the new one works.
    const oldSite = { ...jiraSite };
    const rotated = remember(host.rotateSecret(jiraSite));
    Object.assign(jiraSite, { sharedSecret: rotated.sharedSecret });
    await install(jira, jiraSite);
    expect((await call(jira, oldSite, '/jira/api/whoami')).status).toBe(401);
    expect((await call(jira, jiraSite, '/jira/api/app-view')).status).toBe(200);

    // Every 401 that is cheap to cause.
    const refused: [string, Promise<HttpCallResponse>][] = [
      ['missing', host.send(jira, 'GET', '/jira/api/whoami').then((r) => keep('no token', r))],
      ['malformed', call(jira, jiraSite, '/jira/api/whoami', { header: (token) => `JWT ${token.slice(0, -5)}` })],
      ['garbage', call(jira, jiraSite, '/jira/api/whoami', { header: (token) => `JWT ${token.split('.')[1]}` })],
      ['wrong secret', call(jira, jiraSite, '/jira/api/whoami', { secret: randomBytes(32).toString('base64url') })],
      ['expired', call(jira, jiraSite, '/jira/api/whoami', { expiresIn: -600 })],
      ['wrong qsh', call(jira, jiraSite, '/jira/api/whoami', { url: '/jira/api/other' })],
      ['unknown issuer', call(jira, { ...jiraSite, clientKey: 'nobody-installed-this' }, '/jira/api/whoami')],
      [
        'token in query',
        host.tokenFor(jira, jiraSite, 'GET', '/jira/api/other').then((token) => {
          forbidden.add(token);
          return host.send(jira, 'GET', `/jira/api/whoami?jwt=${token}`).then((r) => keep('query token', r));
        }),
      ],
    ];
    for (const [what, pending] of refused) expect([what, (await pending).status]).toEqual([what, 401]);

    // Disable (then refused as inactive), enable, uninstall, and a re-install after it.
    expect(keep('disable', await host.disable(jira, jiraSite)).status).toBe(204);
    expect((await call(jira, jiraSite, '/jira/api/whoami')).status).toBe(401);
    expect(keep('enable', await host.enable(jira, jiraSite)).status).toBe(204);
    expect((await call(jira, jiraSite, '/jira/api/whoami')).status).toBe(200);
    expect(keep('uninstall', await host.uninstall(confluence, confluenceSite)).status).toBe(204);
    expect((await call(confluence, confluenceSite, '/confluence/api/whoami')).status).toBe(401);

    // A failing install hook: 500, and neither the secret nor the payload in the log of the failure.
    const failing = remember(host.newSite('jira'));
    failingClientKeys.add(failing.clientKey);
    await install(jira, failing, 500);

    // An install whose payload is refused (HS256-signed with the payload's own secret).
    const unsigned = remember(host.newSite('jira'));
    payloads.push(JSON.stringify(host.lifecyclePayload(jira, unsigned, 'installed')));
    expect(keep('hs256 install', await host.install(jira, unsigned, { signing: 'HS256' })).status).toBe(401);

    // A row encrypted with a key the app does not have: 503 with a clear message, no value anywhere.
    const stranger = remember(host.newSite('jira'));
    const foreignKey = SecretCipher.fromKeys([`lost-key:${randomBytes(32).toString('base64')}`]);
    const sealed = foreignKey.encrypt(stranger.sharedSecret, { appKey: jira.key, clientKey: stranger.clientKey });
    forbidden.add(sealed);
    const dataSource = ex.app.get<DataSource>(getDataSourceToken(CONNECT_DATA_SOURCE));
    const schema = (dataSource.options as { schema?: string }).schema;
    await dataSource.query(
      `INSERT INTO ${schema ? `"${schema}".` : ''}"connect_tenant" ("app_key", "client_key", "shared_secret", "base_url", "product_type")
       VALUES ($1, $2, $3, $4, 'jira')`,
      [jira.key, stranger.clientKey, sealed, stranger.baseUrl],
    );
    const lost = await call(jira, stranger, '/jira/api/whoami');
    expect(lost.status).toBe(503);
    expect(lost.body).toMatchObject({ type: 'store/unavailable', message: expect.stringContaining('"lost-key"') });
    expect(logs.all).toContain('"lost-key"');
    await dataSource.query(`DELETE FROM ${schema ? `"${schema}".` : ''}"connect_tenant" WHERE "client_key" = $1`, [stranger.clientKey]);

    // Forge: a verified call brings an app system token (saved, encrypted), a later call without one
    // makes the app use the saved token, and a refused call carries one that must not be saved.
    const forgeTokens = jiraSite.forge.issueTokens({ installationId: forge.installationId, appId: FORGE_APP_ID });
    const refusedToken = jiraSite.forge.issueTokens({ installationId: forge.installationId, appId: FORGE_APP_ID }).systemToken;
    for (const token of [forgeTokens.systemToken, forgeTokens.userToken, refusedToken]) forbidden.add(token);
    systemTokens.push(forgeTokens.systemToken, refusedToken);
    const forgeCall = async (what: string, path: string, options: { systemToken?: string; userToken?: string; expiresIn?: number } = {}) => {
      const fit = await forge.mintInvocationToken({ apiBaseUrl: forgeTokens.apiBaseUrl, ...(options.expiresIn !== undefined && { expiresIn: options.expiresIn }) });
      forbidden.add(fit);
      return keep(what, await forge.invoke(`${ex.url}${path}`, { fit, ...options }));
    };
    expect((await forgeCall('forge hello', '/forge/remote/hello', { systemToken: forgeTokens.systemToken, userToken: forgeTokens.userToken })).status).toBe(200);
    const saved = await forgeCall('forge saved token', '/forge/remote/saved-token/myself');
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ answered: { accountId: forgeSystemAccountId(FORGE_APP_ID) } });
    expect(jiraSite.api.requests.at(-1)).toMatchObject({ forge: { principal: 'system', installationId: forge.installationId } });
    expect((await forgeCall('forge expired FIT', '/forge/remote/hello', { systemToken: refusedToken, expiresIn: -600 })).status).toBe(401);
  });

  it('no secret, token, key or payload in any log line, response body or header', () => {
    // The capture saw the run, including the failing hook, and the detectors do detect.
    expect(logs.all).toContain('the onboarding hook exploded');
    expect(forbidden.size).toBeGreaterThan(15);
    for (const token of forbidden) if (token.startsWith('eyJ')) expect(JWT.test(`x ${token} y`)).toBe(true);
    const places: { where: string; text: string }[] = [
      ...logs.lines.map((line, index) => ({ where: `log #${index} (${line.level})`, text: line.text })),
      ...responses.flatMap(({ what, response }) => [
        { where: `${what}: body`, text: response.text },
        { where: `${what}: headers`, text: JSON.stringify(response.headers) },
      ]),
    ];
    expect(places.length).toBeGreaterThan(30);
    const leaks: string[] = [];
    for (const { where, text } of places) {
      for (const value of forbidden) if (text.includes(value)) leaks.push(`${where}: a secret or token`);
      for (const payload of payloads) if (text.includes(payload)) leaks.push(`${where}: an install payload`);
      if (JWT.test(text)) leaks.push(`${where}: a JWT`);
      if (ACCESS_TOKEN.test(text)) leaks.push(`${where}: an access token`);
    }
    expect(leaks).toEqual([]);
  });

  it('the Forge installation table holds the system token only as ciphertext', async () => {
    const dataSource = ex.app.get<DataSource>(getDataSourceToken(CONNECT_DATA_SOURCE));
    const schema = (dataSource.options as { schema?: string }).schema;
    const rows: { installation_id: string; system_token: string | null }[] = await dataSource.query(`SELECT * FROM ${schema ? `"${schema}".` : ''}"connect_forge_installation"`);
    expect(rows.map((row) => row.installation_id)).toEqual([forge.installationId]);
    expect(systemTokens.length).toBe(2);
    const everything = JSON.stringify(rows);
    for (const token of [...systemTokens, ...forbidden]) expect(everything.includes(token)).toBe(false);
    expect(rows[0]!.system_token).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(JWT.test(everything)).toBe(false);
  });

  it('the tenant table holds no plaintext secret', async () => {
    const dataSource = ex.app.get<DataSource>(getDataSourceToken(CONNECT_DATA_SOURCE));
    const schema = (dataSource.options as { schema?: string }).schema;
    const rows: { shared_secret: string }[] = await dataSource.query(`SELECT "shared_secret" FROM ${schema ? `"${schema}".` : ''}"connect_tenant"`);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const everything = JSON.stringify(rows);
    for (const secret of secrets) expect(everything.includes(secret)).toBe(false);
    for (const row of rows) expect(row.shared_secret).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
  });
});

describe('the encryption key at startup', () => {
  const previousNodeEnv = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = previousNodeEnv;
  });

  it('in production without a key the example app refuses to start, saying how to make one', async () => {
    process.env.NODE_ENV = 'production';
    const logs = new LogCapture();
    const started = createTestApp(AppModule.register({ port: 0, appBaseUrl: 'https://refuse.example.test', embeddedDataDir: 'memory' }), {
      logger: logs,
      abortOnError: false,
    });
    await expect(started).rejects.toMatchObject({
      code: 'config/invalid',
      message: expect.stringContaining(`node -e "console.log(require('crypto').randomBytes(32).toString('base64'))"`),
    });
    await expect(started).rejects.toMatchObject({ message: expect.stringContaining('CONNECT_ENCRYPTION_KEYS=') });
  });

  it('in development without a key it creates one in the dev key file, reuses it, and warns once', async () => {
    process.env.NODE_ENV = 'development';
    const dir = await mkdtemp(join(tmpdir(), 'connect-dev-key-'));
    const file = join(dir, 'connect-encryption.key');
    const logs = new LogCapture();
    try {
      const first = await startExample({ encryptionDevKeyFile: file }, undefined, logs);
      const key = await readFile(file, 'utf8');
      await first.close();
      const second = await startExample({ encryptionDevKeyFile: file }, undefined, logs);
      await second.close();
      expect(await readFile(file, 'utf8')).toBe(key);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const warnings = logs.lines.filter((line) => line.level === 'warn' && line.text.includes('development key'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.text).toContain(file);
      expect(logs.all).not.toContain(key.trim());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
