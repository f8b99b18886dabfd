import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import type { ResolvedConnectApp } from '../../config/resolved-connect-app.js';
import { ConnectError } from '../../errors/connect-error.js';
import type { ConnectTenant } from '../../tenants/tenant.js';
import type { TenantStore } from '../../tenants/tenant-store.js';
import { CachingTenantStore } from '../../tenants/caching-tenant-store.js';
import { resolveConnectOptions } from '../../config/resolve-connect-options.js';
import { queryStringHash } from './canonical-request.js';
import { assertConnectClaims, decodeUnverified } from './connect-jwt-claims.js';
import { ConnectTokenVerifier } from './connect-token-verifier.js';
import { extractToken, extractTokenInFull, MAX_TOKEN_LENGTH } from './token-extractor.js';

const RUNS = { numRuns: 300 };
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');
const tokenChars = fc.constantFrom('a', 'Z', '0', '-', '_', '.', '=', '+', '/', '%', ' ', '\t', '\u00e9', '\ud800');
const hostileString = fc.oneof(
  fc.string({ unit: tokenChars, maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.uint8Array({ maxLength: 60 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
);
const jsonish = fc.oneof(
  fc.jsonValue(),
  fc.string(),
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('latin1')),
);
/** Three base64url parts whose contents are arbitrary JSON (or not JSON at all). */
const shapedToken = fc
  .tuple(jsonish, jsonish, fc.uint8Array({ maxLength: 40 }))
  .map(([h, c, sig]) => `${b64url(JSON.stringify(h) ?? 'x')}.${b64url(JSON.stringify(c) ?? 'x')}.${b64url(Buffer.from(sig))}`);
const anyToken = fc.oneof(shapedToken, hostileString);

async function onlyConnectErrors(run: () => unknown): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!(error instanceof ConnectError)) throw new Error(`threw a non-ConnectError: ${String(error)}`, { cause: error });
  }
}

describe('token extraction (properties)', () => {
  it('throws only ConnectError for arbitrary Authorization headers and URLs; what it returns is a bounded, JWT-shaped token', () => {
    const header = fc.option(
      fc.oneof(
        hostileString,
        hostileString.map((s) => `JWT ${s}`),
        anyToken.map((t) => `JWT ${t}`),
        fc.array(hostileString, { maxLength: 3 }),
      ),
      { nil: undefined },
    );
    const url = fc.oneof(
      hostileString,
      hostileString.map((s) => `/p?jwt=${s}`),
      fc.tuple(hostileString, anyToken).map(([q, t]) => `/p?${q}&jwt=${t}`),
    );
    fc.assert(
      fc.property(header, url, (auth, rawUrl) => {
        let token: string;
        try {
          token = extractToken(auth, rawUrl);
        } catch (error) {
          expect(error).toBeInstanceOf(ConnectError);
          return;
        }
        expect(token.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
        expect(token).toMatch(JWT_SHAPE);
      }),
      RUNS,
    );
  });

  it('returns the very token sent, in the header or percent-encoded in the query', () => {
    fc.assert(
      fc.property(
        shapedToken,
        hostileString.map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, ''))),
        (token, other) => {
          expect(extractToken(`JWT ${token}`, '/p')).toBe(token);
          expect(extractToken(undefined, `/p?x=${other}&jwt=${encodeURIComponent(token)}`)).toBe(token);
          expect(extractToken(`jwt   ${token}`, `/p?jwt=${token}`)).toBe(token);
        },
      ),
      RUNS,
    );
  });

  it('takes its shortcut for "JWT <token>" only where the general path gives the same token or the same error', () => {
    const outcome = (run: () => string) => {
      try {
        return { token: run() };
      } catch (error) {
        return { code: (error as ConnectError).code, message: (error as Error).message };
      }
    };
    const usualHeader = fc.oneof(anyToken, hostileString, fc.constantFrom('', ' x.y.z', 'a.b.c ', 'a.b.c\t', 'a..c', '.b.c', 'a.b', 'a.b.c.d')).map((t) => `JWT ${t}`);
    const url = fc.oneof(
      fc.constantFrom('/p', '/p?x=1', '/p?jwt=', '/p?xjwt=1'),
      hostileString.map((s) => `/p?${s}`),
      anyToken.map((t) => `/p?jwt=${t}`),
    );
    fc.assert(
      fc.property(usualHeader, url, (auth, rawUrl) => {
        expect(outcome(() => extractToken(auth, rawUrl))).toEqual(outcome(() => extractTokenInFull(auth, rawUrl)));
      }),
      RUNS,
    );
    const long = `JWT ${'a'.repeat(MAX_TOKEN_LENGTH)}.b.c`;
    expect(outcome(() => extractToken(long, '/p'))).toEqual(outcome(() => extractTokenInFull(long, '/p')));
  });

  it('refuses every token longer than MAX_TOKEN_LENGTH', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_TOKEN_LENGTH - 2, max: MAX_TOKEN_LENGTH * 2 }), (length) => {
        const token = `${'a'.repeat(length)}.b.c`;
        expect(() => extractToken(`JWT ${token}`, '/')).toThrow(ConnectError);
      }),
      { numRuns: 50 },
    );
  });
});

describe('decodeUnverified and assertConnectClaims (properties)', () => {
  it('decodeUnverified throws only ConnectError', () => {
    fc.assert(
      fc.property(anyToken, (token) => {
        try {
          const { header, claims } = decodeUnverified(token);
          expect(typeof header).toBe('object');
          expect(typeof claims).toBe('object');
        } catch (error) {
          expect(error).toBeInstanceOf(ConnectError);
        }
      }),
      RUNS,
    );
  });

  it('assertConnectClaims throws only ConnectError for arbitrary claims, and accepts only bounded, well-typed ones', () => {
    const claims = fc.record(
      {
        iss: fc.oneof(fc.string(), fc.jsonValue()),
        exp: fc.oneof(fc.double(), fc.integer(), fc.jsonValue()),
        iat: fc.oneof(fc.double(), fc.integer(), fc.jsonValue()),
        sub: fc.oneof(fc.string(), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(claims, fc.integer({ min: 1, max: 10_000 }), (c, maxLifetime) => {
        try {
          assertConnectClaims(c as Record<string, unknown>, 30, maxLifetime, 1_000_000);
        } catch (error) {
          expect(error).toBeInstanceOf(ConnectError);
          return;
        }
        expect(typeof c.iss).toBe('string');
        expect(typeof c.iat).toBe('number');
        expect(typeof c.exp).toBe('number');
        expect((c.exp as number) - (c.iat as number)).toBeLessThanOrEqual(maxLifetime);
        expect(c.iat as number).toBeLessThanOrEqual(1_000_030);
      }),
      RUNS,
    );
  });
});

describe('ConnectTokenVerifier before and around the signature (properties)', () => {
  const secret = 'property-secret-property-secret-0123';
  const app = { key: 'com.test.props', baseUrl: 'https://app.example.test/jira' } as ResolvedConnectApp;
  const tenant = {
    appKey: app.key,
    clientKey: 'client-1',
    sharedSecret: secret,
    baseUrl: 'https://site.example.test',
    displayUrl: null,
    enabled: true,
    uninstalledAt: null,
  } as unknown as ConnectTenant;
  const store = new CachingTenantStore({ find: async (_: string, clientKey: string) => (clientKey === 'client-1' ? tenant : null) } as unknown as TenantStore, {
    maxEntries: 10,
    ttlMs: 60_000,
  });
  let verifier: ConnectTokenVerifier;
  beforeAll(async () => {
    const options = await resolveConnectOptions({ apps: [{ product: 'jira', key: app.key, baseUrl: app.baseUrl, descriptor: {} }] }, { nodeEnv: 'test' });
    verifier = new ConnectTokenVerifier(store, options);
  });
  const sign = (header: unknown, claims: unknown) => {
    const input = `${b64url(JSON.stringify(header) ?? 'x')}.${b64url(JSON.stringify(claims) ?? 'x')}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };
  const now = () => Math.floor(Date.now() / 1000);

  it('rejects arbitrary tokens with ConnectError only', async () => {
    await fc.assert(
      fc.asyncProperty(anyToken, fc.boolean(), async (token, allowContextQsh) => {
        await onlyConnectErrors(() => verifier.verify(app, { method: 'GET', rawUrl: '/jira/x', token }, { allowContextQsh, allowInactiveTenant: false }));
      }),
      RUNS,
    );
  });

  it('validly signed tokens with arbitrary headers and claims are accepted or refused with ConnectError, never anything else', async () => {
    const header = fc.oneof(
      fc.constant({ alg: 'HS256', typ: 'JWT' }),
      fc.record({ alg: fc.constantFrom('HS256', 'none', 'RS256'), crit: fc.jsonValue(), b64: fc.jsonValue(), kid: fc.jsonValue() }, { requiredKeys: ['alg'] }),
      fc.jsonValue(),
    );
    const claims = fc.record(
      {
        iss: fc.oneof(fc.constant('client-1'), fc.constant('__proto__'), fc.jsonValue()),
        exp: fc.oneof(fc.constant(now() + 60), fc.jsonValue(), fc.double()),
        iat: fc.oneof(fc.constant(now()), fc.jsonValue(), fc.double()),
        nbf: fc.jsonValue(),
        qsh: fc.oneof(fc.constant(queryStringHash('GET', '/jira/x', app.baseUrl)), fc.constant('context-qsh'), fc.jsonValue()),
        sub: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(header, claims, async (h, c) => {
        await onlyConnectErrors(() => verifier.verify(app, { method: 'GET', rawUrl: '/jira/x', token: sign(h, c) }, { allowContextQsh: false, allowInactiveTenant: false }));
      }),
      RUNS,
    );
  });

  it('accepts a well-formed request-bound token and refuses one living past the default hour', async () => {
    const qsh = queryStringHash('GET', '/jira/x', app.baseUrl);
    const ok = await verifier.verify(
      app,
      { method: 'GET', rawUrl: '/jira/x', token: sign({ alg: 'HS256' }, { iss: 'client-1', iat: now(), exp: now() + 3600, qsh }) },
      { allowContextQsh: false, allowInactiveTenant: false },
    );
    expect(ok.clientKey).toBe('client-1');
    await expect(
      verifier.verify(
        app,
        { method: 'GET', rawUrl: '/jira/x', token: sign({ alg: 'HS256' }, { iss: 'client-1', iat: now(), exp: now() + 3601, qsh }) },
        { allowContextQsh: false, allowInactiveTenant: false },
      ),
    ).rejects.toMatchObject({ code: 'jwt/lifetime-too-long' });
    await expect(
      verifier.verify(
        app,
        { method: 'GET', rawUrl: '/jira/x', token: sign({ alg: 'HS256' }, { iss: 'client-1', exp: now() + 60, qsh }) },
        { allowContextQsh: false, allowInactiveTenant: false },
      ),
    ).rejects.toMatchObject({ code: 'jwt/malformed' });
  });
});
