import { jwtVerify } from 'jose';
import { CONNECT_DEFAULTS } from '../config/connect-defaults.js';
import type { InstallKeyHostRule } from '../config/connect-options.js';
import { httpStatusOf } from '../errors/connect-error-http.js';
import { createInstallKeyPair, type InstallKeyPair } from '../testing/install-key-pair.js';
import { InstallKeyServer } from '../testing/install-key-server.js';
import { expectCode, signedByInstallKey } from './install-key.spec-helpers.js';
import { RegionalInstallKeyResolver } from './regional-install-key-resolver.js';

const PRODUCTION_SITE = { baseUrl: 'https://acme.atlassian.net' };
const GOV_SITE = { baseUrl: 'https://agency.atlassian-us-gov-mod.net' };

/** Whether `key` verifies a token that `pair` signed (that is, whether it is `pair`'s public key). */
async function verifies(key: Parameters<typeof jwtVerify>[1], pair: InstallKeyPair): Promise<boolean> {
  return jwtVerify(await signedByInstallKey(pair), key, { algorithms: ['RS256'] }).then(
    () => true,
    () => false,
  );
}

describe('RegionalInstallKeyResolver against real key servers', () => {
  /** production (`*.atlassian.net`), gov (`*.atlassian-us-gov-mod.net`), the fallback, and two spares for fallback chains. */
  let production: InstallKeyServer;
  let gov: InstallKeyServer;
  let fallback: InstallKeyServer;
  let first: InstallKeyServer;
  let second: InstallKeyServer;
  /** The URL of a port nothing listens on any more. */
  let closedUrl: string;
  let productionKey: InstallKeyPair;
  let govKey: InstallKeyPair;
  let fallbackKey: InstallKeyPair;

  const servers = () => [production, gov, fallback, first, second];
  const twoRegions = (): InstallKeyHostRule[] => [
    { name: 'production', sites: ['*.atlassian.net'], urls: [production.url] },
    { name: 'gov', sites: ['*.atlassian-us-gov-mod.net'], urls: [gov.url] },
  ];
  const regional = (hosts: readonly InstallKeyHostRule[] = twoRegions()) => new RegionalInstallKeyResolver({ hosts, fallbackUrl: fallback.url, timeoutMs: 2000 });
  /** One region whose hosts are the given URLs, in order. */
  const chain = (...urls: string[]) => regional([{ name: 'chain', sites: ['*.atlassian.net'], urls }]);

  beforeAll(async () => {
    [productionKey, govKey, fallbackKey] = await Promise.all([createInstallKeyPair(), createInstallKeyPair(), createInstallKeyPair()]);
    [production, gov, fallback, first, second] = await Promise.all([
      InstallKeyServer.start(),
      InstallKeyServer.start(),
      InstallKeyServer.start(),
      InstallKeyServer.start(),
      InstallKeyServer.start(),
    ]);
    production.add(productionKey);
    gov.add(govKey);
    fallback.add(fallbackKey);
    const closed = await InstallKeyServer.start();
    closedUrl = closed.url;
    await closed.close();
  });

  afterEach(() => {
    for (const server of servers()) server.reset().resetRequests();
  });

  afterAll(async () => {
    await Promise.all(servers().map((server) => server?.close()));
  });

  it("resolves a production site's key from the production host only", async () => {
    const keys = regional();
    const key = await keys.resolve(productionKey.kid, PRODUCTION_SITE);
    expect(await verifies(key, productionKey)).toBe(true);
    expect([production.requests(productionKey.kid), gov.requests(), fallback.requests()]).toEqual([1, 0, 0]);
  });

  it("resolves a gov site's key from the gov host only", async () => {
    const keys = regional();
    const key = await keys.resolve(govKey.kid, GOV_SITE);
    expect(await verifies(key, govKey)).toBe(true);
    expect([gov.requests(govKey.kid), production.requests(), fallback.requests()]).toEqual([1, 0, 0]);
  });

  it('refuses a kid only the gov host knows for a production site (jwt/invalid-kid), never asking the gov host', async () => {
    const keys = regional();
    const error = await expectCode(keys.resolve(govKey.kid, PRODUCTION_SITE), 'jwt/invalid-kid');
    expect(httpStatusOf(error.code)).toBe(401);
    expect(error.message).toContain(production.url);
    expect([production.requests(govKey.kid), gov.requests(), fallback.requests()]).toEqual([1, 0, 0]);
    // Known to the gov region, it still resolves there; and a gov key cached there stays out of production.
    expect(await verifies(await keys.resolve(govKey.kid, GOV_SITE), govKey)).toBe(true);
    await expectCode(keys.resolve(govKey.kid, PRODUCTION_SITE), 'jwt/invalid-kid');
    expect(production.requests(govKey.kid)).toBe(2);
  });

  it('gives each region its own key for a kid both hosts serve with different keys (no shared cache)', async () => {
    const [productionShared, govShared] = await Promise.all([createInstallKeyPair({ kid: 'shared-kid' }), createInstallKeyPair({ kid: 'shared-kid' })]);
    production.add(productionShared);
    gov.add(govShared);
    try {
      const keys = regional();
      const forProduction = await keys.resolve('shared-kid', PRODUCTION_SITE);
      const forGov = await keys.resolve('shared-kid', GOV_SITE);
      expect([await verifies(forProduction, productionShared), await verifies(forProduction, govShared)]).toEqual([true, false]);
      expect([await verifies(forGov, govShared), await verifies(forGov, productionShared)]).toEqual([true, false]);
      // Cached per region: again, each gets its own, without a new fetch.
      expect(await keys.resolve('shared-kid', PRODUCTION_SITE)).toBe(forProduction);
      expect(await keys.resolve('shared-kid', GOV_SITE)).toBe(forGov);
      expect([production.requests('shared-kid'), gov.requests('shared-kid')]).toEqual([1, 1]);
      expect(keys.stats()).toMatchObject({ production: { fetches: 1, cached: 1 }, gov: { fetches: 1, cached: 1 }, fallback: { fetches: 0, cached: 0 } });
    } finally {
      production.remove('shared-kid');
      gov.remove('shared-kid');
    }
  });

  it.each([
    ['a site of no region', 'https://sandbox.atlassian-fex.net'],
    ['no baseUrl', undefined],
    ['a baseUrl that is not a URL', 'acme.atlassian.net'],
    ['plain http on a region domain', 'http://acme.atlassian.net'],
    ['a look-alike of a region domain', 'https://acme.atlassian.net.example.com'],
  ])('sends %s to the fallback host', async (_name, baseUrl) => {
    const keys = regional();
    expect(await verifies(await keys.resolve(fallbackKey.kid, { baseUrl }), fallbackKey)).toBe(true);
    expect([fallback.requests(fallbackKey.kid), production.requests(), gov.requests()]).toEqual([1, 0, 0]);
    expect(keys.hostFor(baseUrl)).toEqual({ name: 'fallback', urls: [fallback.url] });
    // A production kid is not found there, though the production host has it.
    await expectCode(keys.resolve(productionKey.kid, { baseUrl }), 'jwt/invalid-kid');
    expect(production.requests()).toBe(0);
  });

  it('sends a resolve without a site to the fallback host', async () => {
    expect(await verifies(await regional().resolve(fallbackKey.kid), fallbackKey)).toBe(true);
    expect(fallback.requests(fallbackKey.kid)).toBe(1);
  });

  it('tells which hosts serve a site: the first matching rule, in order', () => {
    const keys = regional([
      { name: 'special', sites: ['special.atlassian.net'], urls: [first.url] },
      ...twoRegions(),
      { name: 'local', sites: ['127.0.0.1'], urls: [second.url, `${first.url}/`] },
    ]);
    expect(keys.hostFor('https://special.atlassian.net/wiki')).toEqual({ name: 'special', urls: [first.url] });
    expect(keys.hostFor('https://other.atlassian.net')).toEqual({ name: 'production', urls: [production.url] });
    expect(keys.hostFor('https://A.Atlassian-US-Gov-Mod.NET')).toEqual({ name: 'gov', urls: [gov.url] });
    expect(keys.hostFor('http://127.0.0.1:4000')).toEqual({ name: 'local', urls: [second.url, first.url] });
    expect(keys.hostFor('http://localhost:4000')).toEqual({ name: 'fallback', urls: [fallback.url] });
  });

  it('uses the default map of CONNECT_DEFAULTS when given it', () => {
    const keys = new RegionalInstallKeyResolver({ hosts: CONNECT_DEFAULTS.installKeyHosts, fallbackUrl: CONNECT_DEFAULTS.installKeysUrl });
    expect(keys.hostFor('https://acme.atlassian.net')).toEqual({
      name: 'production',
      urls: ['https://connect-install-keys.atlassian.com', 'https://asap-distribution.us-west-2.prod.atl-asap.net'],
    });
    expect(keys.hostFor('https://acme.atlassian-us-gov-mod.com').name).toBe('fedramp');
    expect(keys.hostFor('https://acme.jira-dev.com').name).toBe('staging');
    // Production first, then staging: a developer site may be signed by either, a production site never by staging.
    expect(keys.hostFor('https://acme.atlassian-dev.net')).toEqual({
      name: 'developer',
      urls: [
        'https://connect-install-keys.atlassian.com',
        'https://asap-distribution.us-west-2.staging.atl-asap.net',
        'https://cs-migrations--cdn.us-east-1.staging.public.atl-paas.net',
      ],
    });
    expect(keys.hostFor('https://acme.atlassian-stg-fedm.net').name).toBe('fedramp-staging');
    expect(keys.hostFor('https://acme.atlassian-fex.net')).toEqual({ name: 'fallback', urls: ['https://connect-install-keys.atlassian.com'] });
  });

  describe('the URLs of one region, in order', () => {
    it('asks the next URL when the first cannot be reached', async () => {
      first.add(productionKey);
      try {
        const keys = chain(closedUrl, first.url);
        expect(await verifies(await keys.resolve(productionKey.kid, PRODUCTION_SITE), productionKey)).toBe(true);
        expect(first.requests(productionKey.kid)).toBe(1);
        expect(keys.stats().chain).toEqual({ fetches: 2, cached: 1, inFlight: 0 });
      } finally {
        first.remove(productionKey.kid);
      }
    });

    it('asks the next URL when the first does not know the kid (404), and the second serves it', async () => {
      second.add(productionKey);
      try {
        const keys = chain(first.url, second.url);
        expect(await verifies(await keys.resolve(productionKey.kid, PRODUCTION_SITE), productionKey)).toBe(true);
        expect([first.requests(productionKey.kid), second.requests(productionKey.kid)]).toEqual([1, 1]);
        // Cached for the region, whichever URL served it.
        await keys.resolve(productionKey.kid, PRODUCTION_SITE);
        expect([first.requests(), second.requests()]).toEqual([1, 1]);
      } finally {
        second.remove(productionKey.kid);
      }
    });

    it('asks the next URL after a 5xx, and the second serves it', async () => {
      first.add(productionKey).failWith(502);
      second.add(productionKey);
      try {
        expect(await verifies(await chain(first.url, second.url).resolve(productionKey.kid, PRODUCTION_SITE), productionKey)).toBe(true);
        expect([first.requests(productionKey.kid), second.requests(productionKey.kid)]).toEqual([1, 1]);
      } finally {
        first.remove(productionKey.kid);
        second.remove(productionKey.kid);
      }
    });

    it('is jwt/invalid-kid (401) when every URL answers 404 or 410, naming every host tried', async () => {
      second.failWith(410);
      const error = await expectCode(chain(first.url, second.url).resolve('unknown-kid', PRODUCTION_SITE), 'jwt/invalid-kid');
      expect(httpStatusOf(error.code)).toBe(401);
      expect(error.detail).toEqual({ kid: 'unknown-kid', keyHosts: `${first.url}, ${second.url}` });
      expect(error.message).toContain('HTTP 404');
      expect(error.message).toContain('HTTP 410');
      expect([first.requests('unknown-kid'), second.requests('unknown-kid')]).toEqual([1, 1]);
    });

    it.each([
      ['a 503 then a 404', 503, null],
      ['a 404 then a 503', null, 503],
    ] as const)('is jwt/key-unavailable (503) after %s: a host that failed may know the kid', async (_name, firstStatus, secondStatus) => {
      first.failWith(firstStatus);
      second.failWith(secondStatus);
      const keys = chain(first.url, second.url);
      const error = await expectCode(keys.resolve('unknown-kid', PRODUCTION_SITE), 'jwt/key-unavailable');
      expect(httpStatusOf(error.code)).toBe(503);
      expect(error.detail).toEqual({ kid: 'unknown-kid', keyHosts: `${first.url}, ${second.url}` });
      expect(error.message).toContain('HTTP 503');
      // Failures are not cached: once both answer, the next resolve asks again.
      first.reset();
      second.reset();
      await expectCode(keys.resolve('unknown-kid', PRODUCTION_SITE), 'jwt/invalid-kid');
      expect([first.requests('unknown-kid'), second.requests('unknown-kid')]).toEqual([2, 2]);
    });

    it('is jwt/key-unavailable when no URL can be reached', async () => {
      const error = await expectCode(chain(closedUrl, `${closedUrl}/other`).resolve(productionKey.kid, PRODUCTION_SITE), 'jwt/key-unavailable');
      expect(error.detail).toMatchObject({ keyHosts: `${closedUrl}, ${closedUrl}/other` });
    });

    it('stops at a weak key (jwt/invalid-key, 401): the next URL is never asked', async () => {
      const weak = await createInstallKeyPair({ kid: 'weak-kid', modulusLength: 1024 });
      const strong = await createInstallKeyPair({ kid: 'weak-kid' });
      first.add(weak);
      second.add(strong);
      try {
        const error = await expectCode(chain(first.url, second.url).resolve('weak-kid', PRODUCTION_SITE), 'jwt/invalid-key');
        expect(httpStatusOf(error.code)).toBe(401);
        expect(error.message).toContain('1024-bit');
        expect([first.requests('weak-kid'), second.requests()]).toEqual([1, 0]);
      } finally {
        first.remove('weak-kid');
        second.remove('weak-kid');
      }
    });

    it('shares one walk along the URLs between concurrent resolves of one kid', async () => {
      first.delay(50);
      second.add(productionKey);
      try {
        const keys = chain(first.url, second.url);
        const resolved = await Promise.all(Array.from({ length: 10 }, () => keys.resolve(productionKey.kid, PRODUCTION_SITE)));
        expect(new Set(resolved).size).toBe(1);
        expect([first.requests(productionKey.kid), second.requests(productionKey.kid)]).toEqual([1, 1]);
      } finally {
        second.remove(productionKey.kid);
      }
    });
  });

  it('checks its rules as the installKeyHosts option is checked', () => {
    expect(() => new RegionalInstallKeyResolver({ hosts: [{ name: 'Bad Name', sites: ['*.atlassian.net'], urls: [production.url] }], fallbackUrl: fallback.url })).toThrow(
      expect.objectContaining({ code: 'config/invalid', message: expect.stringContaining('name must be 1 to 40 characters') }),
    );
    expect(() => new RegionalInstallKeyResolver({ hosts: [], fallbackUrl: 'ftp://keys.example.com' })).toThrow(expect.objectContaining({ code: 'config/invalid' }));
  });
});
