import { ConnectError } from '../errors/connect-error.js';
import { forgeAppIdOfAri, isForgeAppId } from './forge-app-id.js';
import { assertForgeClaims, bearerTokenOf, decodeUnverifiedFit, forgeAppIdOfAudience, isolatedCloudLabelOf, MAX_FORGE_TOKEN_LENGTH } from './forge-token-claims.js';

const APP_ID = '0b9f8a40-55a8-4c3e-9f1e-3d3b2c1a0f11';
const NOW = 1_800_000_000;
const OPTIONS = { leewaySeconds: 30, maxLifetimeSeconds: 3600, now: NOW };

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof ConnectError) return error.code;
    throw error;
  }
  return undefined;
}

function claims(over: Record<string, unknown> = {}, app: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: 'forge/invocation-token',
    aud: `ari:cloud:ecosystem::app/${APP_ID}`,
    iat: NOW,
    nbf: NOW,
    exp: NOW + 300,
    principal: '5b10ac8d82e05b22cc7d4ef5',
    context: { cloudId: 'c' },
    app: {
      id: `ari:cloud:ecosystem::app/${APP_ID}`,
      installationId: 'ari:cloud:ecosystem::installation/1e2d3c4b-0000-4000-8000-000000000001',
      apiBaseUrl: 'https://api.atlassian.com/ex/jira/c/',
      environment: { type: 'PRODUCTION', id: 'env-1' },
      module: { type: 'xen:macro', key: 'm' },
      ...app,
    },
    ...over,
  };
}

function part(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('Forge app ids', () => {
  it('accepts lower-case UUIDs only, and reads them from app ARIs', () => {
    expect(isForgeAppId(APP_ID)).toBe(true);
    expect(isForgeAppId(APP_ID.toUpperCase())).toBe(false);
    expect(isForgeAppId(`${APP_ID}/x`)).toBe(false);
    expect(forgeAppIdOfAri(`ari:cloud:ecosystem::app/${APP_ID}`)).toBe(APP_ID);
    expect(forgeAppIdOfAri(`ari:cloud:ecosystem::app/${APP_ID}/../x`)).toBeUndefined();
    expect(forgeAppIdOfAri(APP_ID)).toBeUndefined();
  });
});

describe('bearerTokenOf', () => {
  const token = `${part({ alg: 'RS256' })}.${part({})}.sig`;
  it('takes the token of a Bearer header, case-insensitively', () => {
    expect(bearerTokenOf(`Bearer ${token}`)).toBe(token);
    expect(bearerTokenOf(`bearer ${token}`)).toBe(token);
  });
  it.each<[string | string[] | undefined, string]>([
    [undefined, 'forge/missing-token'],
    ['Bearer', 'forge/missing-token'],
    [`JWT ${token}`, 'forge/missing-token'],
    [[`Bearer ${token}`, `Bearer ${token}`], 'forge/invalid-token'],
    ['Bearer a.b', 'forge/invalid-token'],
    [`Bearer ${token}.`, 'forge/invalid-token'],
    [`Bearer ${'a'.repeat(MAX_FORGE_TOKEN_LENGTH)}.b.c`, 'forge/invalid-token'],
  ])('refuses %j', (header, code) => {
    expect(codeOf(() => bearerTokenOf(header))).toBe(code);
  });
});

describe('decodeUnverifiedFit', () => {
  it('checks the alg before anything else, and needs a plain kid', () => {
    expect(codeOf(() => decodeUnverifiedFit(`${part({ alg: 'HS256', kid: 'k' })}.${part({})}.s`))).toBe('forge/unsupported-alg');
    expect(codeOf(() => decodeUnverifiedFit(`${part({ alg: 'none' })}.${part({})}.s`))).toBe('forge/unsupported-alg');
    expect(codeOf(() => decodeUnverifiedFit(`${part({ alg: 'RS256' })}.${part({})}.s`))).toBe('forge/invalid-token');
    expect(codeOf(() => decodeUnverifiedFit(`${part({ alg: 'RS256', kid: '../../x y' })}.${part({})}.s`))).toBe('forge/invalid-token');
    expect(codeOf(() => decodeUnverifiedFit(`${part({ alg: 'RS256', kid: 'k'.repeat(129) })}.${part({})}.s`))).toBe('forge/invalid-token');
    expect(codeOf(() => decodeUnverifiedFit('e30.@@@.s'))).toBe('forge/invalid-token');
    expect(decodeUnverifiedFit(`${part({ alg: 'RS256', kid: 'abc-1' })}.${part({ a: 1 })}.s`).claims).toEqual({ a: 1 });
  });
});

describe('forgeAppIdOfAudience', () => {
  const configured = (id: string) => id === APP_ID;
  it('picks the configured app of a single Forge app ARI', () => {
    expect(forgeAppIdOfAudience(`ari:cloud:ecosystem::app/${APP_ID}`, configured)).toBe(APP_ID);
    expect(forgeAppIdOfAudience([`ari:cloud:ecosystem::app/${APP_ID}`], configured)).toBe(APP_ID);
  });
  it.each<[unknown, string]>([
    [undefined, 'forge/invalid-aud'],
    ['https://app.example.com', 'forge/invalid-aud'],
    [APP_ID, 'forge/invalid-aud'],
    [[], 'forge/invalid-aud'],
    [[`ari:cloud:ecosystem::app/${APP_ID}`, 'ari:cloud:ecosystem::app/ffffffff-1111-4222-8333-444444444444'], 'forge/invalid-aud'],
    ['ari:cloud:ecosystem::app/ffffffff-1111-4222-8333-444444444444', 'forge/unknown-app'],
  ])('refuses aud %j', (aud, code) => {
    expect(codeOf(() => forgeAppIdOfAudience(aud, configured))).toBe(code);
  });
});

describe('assertForgeClaims', () => {
  it('returns what a handler reads', () => {
    expect(assertForgeClaims(claims(), APP_ID, OPTIONS)).toEqual({
      appId: APP_ID,
      installationId: 'ari:cloud:ecosystem::installation/1e2d3c4b-0000-4000-8000-000000000001',
      apiBaseUrl: 'https://api.atlassian.com/ex/jira/c',
      environment: { type: 'PRODUCTION', id: 'env-1' },
      module: { type: 'xen:macro', key: 'm' },
      context: { cloudId: 'c' },
      accountId: '5b10ac8d82e05b22cc7d4ef5',
      appVersion: undefined,
      cloudId: 'c',
      siteUrl: undefined,
      license: undefined,
      installationContexts: [],
    });
  });

  it('allows an app-initiated call: no principal, no module, no context', () => {
    const result = assertForgeClaims(claims({ principal: undefined, context: undefined }, { module: undefined }), APP_ID, OPTIONS);
    expect(result).toMatchObject({ accountId: undefined, module: undefined, context: {} });
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>, string]>([
    ['no exp', { exp: undefined }, {}, 'forge/invalid-token'],
    ['iat in the future beyond leeway', { iat: NOW + 31 }, {}, 'forge/not-yet-valid'],
    ['a lifetime over the bound', { exp: NOW + 3601 }, {}, 'forge/invalid-token'],
    ['no app claim', { app: undefined }, {}, 'forge/invalid-token'],
    ['app.id of another app', {}, { id: 'ari:cloud:ecosystem::app/ffffffff-1111-4222-8333-444444444444' }, 'forge/invalid-aud'],
    ['no installationId', {}, { installationId: undefined }, 'forge/invalid-token'],
    ['an installationId that is not an installation ARI', {}, { installationId: 'abc' }, 'forge/invalid-token'],
    ['no apiBaseUrl', {}, { apiBaseUrl: undefined }, 'forge/invalid-token'],
    ['an http apiBaseUrl', {}, { apiBaseUrl: 'http://api.atlassian.com/ex/jira/c' }, 'forge/invalid-token'],
    ['a loopback http apiBaseUrl in production', {}, { apiBaseUrl: 'http://127.0.0.1:8080/ex' }, 'forge/invalid-token'],
    ['an apiBaseUrl with credentials', {}, { apiBaseUrl: 'https://u:p@api.atlassian.com/ex' }, 'forge/invalid-token'],
    ['an apiBaseUrl with a query', {}, { apiBaseUrl: 'https://api.atlassian.com/ex?x=1' }, 'forge/invalid-token'],
    ['a principal that is not a string', { principal: 42 }, {}, 'forge/invalid-token'],
    ['a context that is not an object', { context: 'x' }, {}, 'forge/invalid-token'],
  ])('refuses %s', (_, over, app, code) => {
    expect(codeOf(() => assertForgeClaims(claims(over, app), APP_ID, OPTIONS))).toBe(code);
  });

  it('accepts a loopback http apiBaseUrl only when allowed (a local fake JWKS)', () => {
    const local = claims({}, { apiBaseUrl: 'http://127.0.0.1:8080/ex' });
    expect(assertForgeClaims(local, APP_ID, { ...OPTIONS, allowLoopbackApiBaseUrl: true }).apiBaseUrl).toBe('http://127.0.0.1:8080/ex');
    expect(codeOf(() => assertForgeClaims(claims({}, { apiBaseUrl: 'http://evil.example/ex' }), APP_ID, { ...OPTIONS, allowLoopbackApiBaseUrl: true }))).toBe(
      'forge/invalid-token',
    );
  });
});

describe('assertForgeClaims: version, site, licence and installation contexts', () => {
  it('reads appVersion, cloudId, siteUrl, license and installation.contexts', () => {
    const checked = assertForgeClaims(
      claims(
        { context: { cloudId: 'a1b2-c3', siteUrl: 'https://acme.atlassian.net/' } },
        {
          appVersion: '3.1.0',
          license: { isActive: true, type: 'commercial', isEvaluation: false, billingPeriod: 'MONTHLY' },
          installation: { contexts: [{ cloudId: 'a1b2-c3', apiBaseUrl: 'https://api.atlassian.com/ex/jira/a1b2-c3' }] },
        },
      ) as never,
      APP_ID,
      OPTIONS,
    );
    expect(checked).toMatchObject({
      appVersion: '3.1.0',
      cloudId: 'a1b2-c3',
      siteUrl: 'https://acme.atlassian.net',
      license: { isActive: true, type: 'commercial', isEvaluation: false },
      installationContexts: [{ cloudId: 'a1b2-c3', apiBaseUrl: 'https://api.atlassian.com/ex/jira/a1b2-c3' }],
    });
  });

  it('reads the licence from `active` (the current field), preferring it over the deprecated `isActive`', () => {
    const read = (license: Record<string, unknown>) => assertForgeClaims(claims({}, { license }) as never, APP_ID, OPTIONS).license?.isActive;
    expect(read({ active: false })).toBe(false);
    expect(read({ active: true, isActive: false })).toBe(true);
    expect(read({ isActive: true })).toBe(true);
    expect(read({ type: 'commercial' })).toBeUndefined();
  });

  it('leaves out what is not sent, takes cloudId from the installation contexts, and ignores a siteUrl that is not https', () => {
    const checked = assertForgeClaims(
      claims(
        { context: { siteUrl: 'http://acme.atlassian.net' } },
        { installation: { contexts: [{ apiBaseUrl: 'https://api.atlassian.com/ex/jira/x' }, { cloudId: 'from-context' }] } },
      ) as never,
      APP_ID,
      OPTIONS,
    );
    expect(checked).toMatchObject({ appVersion: undefined, cloudId: 'from-context', siteUrl: undefined, license: undefined });
    expect(checked.installationContexts).toHaveLength(2);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['a cloudId with a path in it', { context: { cloudId: '../admin' } }, {}],
    ['a cloudId that is not a string', { context: { cloudId: 42 } }, {}],
    ['an appVersion with spaces', {}, { appVersion: '1.0 beta' }],
    ['a license that is not an object', {}, { license: 'yes' }],
    ['license.isActive that is not a boolean', {}, { license: { isActive: 'true' } }],
    ['license.active that is not a boolean', {}, { license: { active: 1 } }],
    ['installation.contexts that is not a list', {}, { installation: { contexts: {} } }],
    ['too many installation contexts', {}, { installation: { contexts: Array.from({ length: 17 }, () => ({ cloudId: 'c' })) } }],
    ['an installation context that is not an object', {}, { installation: { contexts: ['c'] } }],
  ])('refuses %s as forge/invalid-token', (_name, over, app) => {
    expect(codeOf(() => assertForgeClaims(claims(over, app) as never, APP_ID, OPTIONS))).toBe('forge/invalid-token');
  });
});

describe('icLabel (Isolated Cloud)', () => {
  it('is read from verified and from unverified claims alike; absent means the regular cloud', () => {
    expect(assertForgeClaims(claims({ icLabel: 'orange' }), APP_ID, OPTIONS).icLabel).toBe('orange');
    expect(assertForgeClaims(claims(), APP_ID, OPTIONS).icLabel).toBeUndefined();
    expect(isolatedCloudLabelOf({ icLabel: 'blue_2-eu' })).toBe('blue_2-eu');
    expect(isolatedCloudLabelOf({ icLabel: 'x'.repeat(50) })).toBe('x'.repeat(50));
    expect(isolatedCloudLabelOf({})).toBeUndefined();
  });

  it.each<[string, unknown]>([
    ['too long', 'x'.repeat(51)],
    ['empty', ''],
    ['upper case', 'Orange'],
    ['a slash', 'orange/prod'],
    ['dots', '..'],
    ['a path', '../jwks'],
    ['a URL', 'https://evil.example/jwks.json'],
    ['whitespace', 'orange '],
    ['a non-ASCII letter', 'orangé'],
    ['a number', 42],
    ['null', null],
    ['a list', ['orange']],
    ['an object', { label: 'orange' }],
  ])('refuses one that is %s as forge/invalid-token, verified or not', (_name, icLabel) => {
    expect(codeOf(() => isolatedCloudLabelOf({ icLabel } as never))).toBe('forge/invalid-token');
    expect(codeOf(() => assertForgeClaims(claims({ icLabel }), APP_ID, OPTIONS))).toBe('forge/invalid-token');
  });
});
