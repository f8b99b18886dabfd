import { CONNECT_DEFAULTS } from './connect-defaults.js';
import type { ConnectForgeOptions } from './connect-options.js';
import { resolveConnectOptions } from './resolve-connect-options.js';

const APPS = [{ product: 'jira' as const, key: 'com.test.forge-options', baseUrl: 'https://forge-options.example.com/jira', descriptor: { name: 'F' } }];
/** An app store keeps the resolution from needing the embedded engine's packages. */
const STORE = { find: async () => null, install: async () => ({}) as never, update: async () => null, ping: async () => undefined };

function resolveForge(forge: ConnectForgeOptions | undefined) {
  return resolveConnectOptions({ apps: APPS, tenantStore: STORE, retention: { schedule: false }, ...(forge !== undefined && { forge }) }, { nodeEnv: 'test' }).then(
    (resolved) => resolved.forge,
  );
}

describe('forge.systemTokenLifetimeSeconds and forge.systemTokenSafetyMarginSeconds', () => {
  it('default to 55 minutes and 60 seconds', async () => {
    const forge = await resolveForge(undefined);
    expect(CONNECT_DEFAULTS.forge).toMatchObject({ systemTokenLifetimeSeconds: 3300, systemTokenSafetyMarginSeconds: 60 });
    expect(forge).toMatchObject({ systemTokenLifetimeSeconds: 3300, systemTokenSafetyMarginSeconds: 60 });
  });

  it('take configured values, up to a lifetime of a day', async () => {
    expect(await resolveForge({ systemTokenLifetimeSeconds: 2 * 3600, systemTokenSafetyMarginSeconds: 300 })).toMatchObject({
      systemTokenLifetimeSeconds: 7200,
      systemTokenSafetyMarginSeconds: 300,
    });
    expect(await resolveForge({ systemTokenLifetimeSeconds: 86_400, systemTokenSafetyMarginSeconds: 0 })).toMatchObject({ systemTokenLifetimeSeconds: 86_400 });
  });

  it.each<[string, ConnectForgeOptions, RegExp]>([
    ['a lifetime of 0', { systemTokenLifetimeSeconds: 0 }, /forge\.systemTokenLifetimeSeconds must be an integer from 60 to 86400, not 0/],
    ['a lifetime over a day', { systemTokenLifetimeSeconds: 86_401 }, /forge\.systemTokenLifetimeSeconds must be an integer from 60 to 86400/],
    ['a fractional lifetime', { systemTokenLifetimeSeconds: 3600.5 }, /forge\.systemTokenLifetimeSeconds must be an integer/],
    ['a lifetime as a string', { systemTokenLifetimeSeconds: '3600' as never }, /forge\.systemTokenLifetimeSeconds must be an integer .*, not "3600"/],
    ['a negative margin', { systemTokenSafetyMarginSeconds: -1 }, /forge\.systemTokenSafetyMarginSeconds must be an integer from 0 to 3600, not -1/],
    ['a margin over an hour', { systemTokenSafetyMarginSeconds: 3601 }, /forge\.systemTokenSafetyMarginSeconds must be an integer from 0 to 3600/],
    [
      'a margin as long as the lifetime',
      { systemTokenLifetimeSeconds: 600, systemTokenSafetyMarginSeconds: 600 },
      /must be smaller than forge\.systemTokenLifetimeSeconds \(600\)/,
    ],
    ['a margin longer than the default lifetime', { systemTokenSafetyMarginSeconds: 3300 }, /systemTokenSafetyMarginSeconds \(3300\) must be smaller/],
  ])('refuses %s with config/invalid', async (_name, forge, message) => {
    await expect(resolveForge(forge)).rejects.toMatchObject({ code: 'config/invalid', message: expect.stringMatching(message) });
  });
});

describe('forge.isolatedCloudJwksUrls', () => {
  it('is empty by default', async () => {
    expect((await resolveForge(undefined)).isolatedCloudJwksUrls.size).toBe(0);
  });

  it('maps each label to its parsed JWKS URL; https, or http on loopback', async () => {
    const { isolatedCloudJwksUrls, jwksUrl } = await resolveForge({
      isolatedCloudJwksUrls: { orange: 'https://forge.orange.example.com/.well-known/jwks.json', 'eu_2-test': 'http://127.0.0.1:9/jwks.json' },
    });
    expect([...isolatedCloudJwksUrls]).toEqual([
      ['orange', 'https://forge.orange.example.com/.well-known/jwks.json'],
      ['eu_2-test', 'http://127.0.0.1:9/jwks.json'],
    ]);
    expect(jwksUrl).toBe(CONNECT_DEFAULTS.forge.jwksUrl);
  });

  it('keeps a label such as __proto__ as a label: own keys only, and no prototype to fall back on', async () => {
    const { isolatedCloudJwksUrls } = await resolveForge({ isolatedCloudJwksUrls: JSON.parse('{"__proto__": "https://proto.example.com/jwks.json"}') as Record<string, string> });
    expect(isolatedCloudJwksUrls.get('__proto__')).toBe('https://proto.example.com/jwks.json');
    expect(isolatedCloudJwksUrls.get('constructor')).toBeUndefined();
  });

  it.each<[string, unknown, RegExp]>([
    ['a list', ['https://x.example.com/jwks.json'], /forge\.isolatedCloudJwksUrls must be an object/],
    ['a string', 'https://x.example.com/jwks.json', /forge\.isolatedCloudJwksUrls must be an object/],
    ['an upper-case label', { Orange: 'https://x.example.com/jwks.json' }, /has the label "Orange"; an Isolated Cloud label is 1 to 50 of a-z, 0-9, _ and -/],
    ['a label with a slash', { 'orange/prod': 'https://x.example.com/jwks.json' }, /has the label "orange\/prod"/],
    ['a label of dots', { '..': 'https://x.example.com/jwks.json' }, /has the label "\.\."/],
    ['an empty label', { '': 'https://x.example.com/jwks.json' }, /has the label ""/],
    ['a label of 51 characters', { ['x'.repeat(51)]: 'https://x.example.com/jwks.json' }, /has the label "x{51}"/],
    [
      'a plain-http URL',
      { orange: 'http://forge.orange.example.com/jwks.json' },
      /forge\.isolatedCloudJwksUrls\.orange http:\/\/forge\.orange\.example\.com\/jwks\.json must be https/,
    ],
    ['a URL with credentials', { orange: 'https://u:p@forge.orange.example.com/jwks.json' }, /forge\.isolatedCloudJwksUrls\.orange .* must not carry credentials/],
    ['a URL with a query', { orange: 'https://forge.orange.example.com/jwks.json?label=orange' }, /must not carry credentials, a query or a fragment/],
    ['a relative URL', { orange: '/jwks.json' }, /forge\.isolatedCloudJwksUrls\.orange "\/jwks\.json" is not an absolute URL/],
  ])('refuses %s with config/invalid', async (_name, urls, message) => {
    await expect(resolveForge({ isolatedCloudJwksUrls: urls as Record<string, string> })).rejects.toMatchObject({
      code: 'config/invalid',
      message: expect.stringMatching(message),
    });
  });
});
