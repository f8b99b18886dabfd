import type { INestApplication } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { SignJWT, type JWTHeaderParameters, type JWTPayload } from 'jose';
import type { KeyObject, webcrypto } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { CONNECT_DATA_SOURCE, LIFECYCLE_PATHS, queryStringHash, type LifecycleEventName, type TenantStore } from 'atlassian-connect-nest';
import { TypeOrmTenantStore } from 'atlassian-connect-nest/advanced';
import type { FakeConnectHost, FakeHostApp, FakeSite, HttpCallResponse } from 'atlassian-connect-nest/testing';

/** A stored tenant, as the store returns it (the interface itself is not exported under a free name). */
export type StoredTenant = NonNullable<Awaited<ReturnType<TenantStore['find']>>>;

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** The path of a lifecycle callback or route of `app`, e.g. `/jira/installed`. */
export function appPath(app: FakeHostApp, path: string): string {
  return new URL(app.baseUrl).pathname.replace(/\/+$/, '') + path;
}

/**
 * Asserts a typed error answer: status, `{ type, message }` JSON body, `WWW-Authenticate` naming the
 * app on 401s (and none otherwise), `Retry-After` on 503s.
 */
export function expectConnectError(response: HttpCallResponse, status: number, type: string, realm: string): void {
  const body = response.body as { type?: unknown; message?: unknown } | string;
  expect({ status: response.status, type: typeof body === 'object' ? body.type : body }).toEqual({ status, type });
  expect(String(response.headers['content-type'])).toMatch(/^application\/json/);
  expect(typeof (body as { message?: unknown }).message).toBe('string');
  expect(Object.keys(body as object).sort()).toEqual(['message', 'type']);
  if (status === 401) expect(response.headers['www-authenticate']).toBe(`JWT realm="${realm}"`);
  else expect(response.headers['www-authenticate']).toBeUndefined();
  if (status === 503) expect(String(response.headers['retry-after'])).toMatch(/^[1-9][0-9]*$/);
}

/** GET `<app>/api/whoami` with a request-bound token signed with the site's (current) secret. */
export async function whoami(host: FakeConnectHost, app: FakeHostApp, site: FakeSite, accountId?: string): Promise<HttpCallResponse> {
  const path = appPath(app, '/api/whoami');
  const token = await host.tokenFor(app, site, 'GET', path, accountId === undefined ? {} : { accountId });
  return host.send(app, 'GET', path, { headers: { authorization: `JWT ${token}` } });
}

/** Asserts that the site, signing with its secret, is served by the app. */
export async function expectServed(host: FakeConnectHost, app: FakeHostApp, site: FakeSite): Promise<void> {
  const response = await whoami(host, app, site);
  expect({ status: response.status, body: response.body }).toEqual({
    status: 200,
    body: { clientKey: site.clientKey, accountId: null, productType: app.product },
  });
}

/** Asserts that the site's request is refused with a 401 of `type`. */
export async function expectRefused(host: FakeConnectHost, app: FakeHostApp, site: FakeSite, type: string): Promise<void> {
  expectConnectError(await whoami(host, app, site), 401, type, app.key);
}

/**
 * The row as it is in the database right now, read past the framework's tenant cache (a fresh
 * `TypeOrmTenantStore` on the app's own DataSource).
 */
export function storedTenant(ex: { app: INestApplication }, app: FakeHostApp, clientKey: string): Promise<StoredTenant | null> {
  const dataSource = ex.app.get<DataSource>(getDataSourceToken(CONNECT_DATA_SOURCE));
  return new TypeOrmTenantStore(dataSource).find(app.key, clientKey);
}

export interface CustomLifecycleCall {
  /** The complete JWT header (nothing is added: omit `kid` to send none). */
  header: JWTHeaderParameters;
  /** Signs the token. */
  key: webcrypto.CryptoKey | KeyObject | Uint8Array;
  /** Overrides of the default claims (`iss`, `aud`, `qsh`, `iat`, `exp`); `undefined` removes one. */
  claims?: JWTPayload;
  /** The body; default the host's payload for the site. */
  payload?: Record<string, unknown>;
}

/**
 * A lifecycle callback with a token built by hand, for what `FakeConnectHost` cannot express (e.g. an
 * RS256 header without a kid, or an HS256 token signed with a secret other than the payload's).
 */
export async function customLifecycleCall(
  host: FakeConnectHost,
  app: FakeHostApp,
  site: FakeSite,
  event: LifecycleEventName,
  call: CustomLifecycleCall,
): Promise<HttpCallResponse> {
  const path = appPath(app, LIFECYCLE_PATHS[event]);
  const claims: JWTPayload = { iss: site.clientKey, aud: app.baseUrl, qsh: queryStringHash('POST', path, app.baseUrl), iat: nowSeconds(), exp: nowSeconds() + 180 };
  for (const [name, value] of Object.entries(call.claims ?? {})) {
    if (value === undefined) delete claims[name];
    else claims[name] = value;
  }
  const token = await new SignJWT(claims).setProtectedHeader(call.header).sign(call.key);
  return host.send(app, 'POST', path, { headers: { authorization: `JWT ${token}` }, body: call.payload ?? host.lifecyclePayload(app, site, event) });
}
