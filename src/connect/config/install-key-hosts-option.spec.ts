import { CONNECT_DEFAULTS } from './connect-defaults.js';
import type { ConnectModuleOptions, InstallKeyHostRule } from './connect-options.js';
import { resolveConnectOptions } from './resolve-connect-options.js';

const APPS = [{ product: 'jira' as const, key: 'com.test.key-hosts', baseUrl: 'https://key-hosts.example.com/jira', descriptor: { name: 'K' } }];
/** An app store keeps the resolution from needing the embedded engine's packages. */
const STORE = { find: async () => null, install: async () => ({}) as never, update: async () => null, ping: async () => undefined };

function resolveInstallKeys(options: Pick<ConnectModuleOptions, 'installKeysUrl' | 'installKeyHosts'>) {
  return resolveConnectOptions({ apps: APPS, tenantStore: STORE, retention: { schedule: false }, ...options }, { nodeEnv: 'test' }).then((resolved) => resolved.installKeys);
}

const rule = (overrides: Partial<Record<keyof InstallKeyHostRule, unknown>> = {}) =>
  ({ name: 'production', sites: ['*.atlassian.net'], urls: ['https://keys.example.com'], ...overrides }) as InstallKeyHostRule;

describe('installKeyHosts: the default map and installKeysUrl', () => {
  it("is Atlassian's four environments with the production CDN as fallback when neither is set", async () => {
    const keys = await resolveInstallKeys({});
    expect(keys.url).toBe('https://connect-install-keys.atlassian.com');
    expect(keys.hosts).toEqual(CONNECT_DEFAULTS.installKeyHosts);
    expect(keys.hosts.map((entry) => entry.name)).toEqual(['production', 'fedramp', 'staging', 'developer', 'fedramp-staging']);
    expect(keys.hosts[0]!.urls[0]).toBe(CONNECT_DEFAULTS.installKeysUrl);
    expect(Object.isFrozen(keys.hosts) && Object.isFrozen(keys.hosts[0]) && Object.isFrozen(keys.hosts[0]!.urls)).toBe(true);
    // Also when both are given as undefined ("the default").
    expect((await resolveInstallKeys({ installKeysUrl: undefined, installKeyHosts: undefined })).hosts).toEqual(CONNECT_DEFAULTS.installKeyHosts);
  });

  it('keeps a key host of the default map out of the default allowedHostPatterns where Atlassian does not list it', () => {
    const allowed: readonly string[] = CONNECT_DEFAULTS.apps.allowedHostPatterns;
    expect(allowed).not.toContain('*.atlassian-stg-fedm.net');
    const mapped = CONNECT_DEFAULTS.installKeyHosts.flatMap((entry) => entry.sites);
    expect(mapped.filter((site) => !allowed.includes(site))).toEqual(['*.atlassian-stg-fedm.net']);
  });

  it('sends every site to installKeysUrl when that is set alone (one local key server for all sites)', async () => {
    expect(await resolveInstallKeys({ installKeysUrl: 'http://127.0.0.1:9000/keys/' })).toMatchObject({ url: 'http://127.0.0.1:9000/keys', hosts: [] });
  });

  it('takes [] as "installKeysUrl only"', async () => {
    expect(await resolveInstallKeys({ installKeyHosts: [] })).toMatchObject({ url: CONNECT_DEFAULTS.installKeysUrl, hosts: [] });
  });

  it('takes rules with installKeysUrl as their fallback, checked and normalised', async () => {
    const keys = await resolveInstallKeys({
      installKeysUrl: 'https://fallback.example.com',
      installKeyHosts: [
        { name: 'production', sites: ['*.Atlassian.NET', 'jira.example.com', '*.atlassian.net'], urls: ['https://keys.example.com/', 'http://127.0.0.1:9000/keys'] },
        { name: 'gov-2', sites: ['*.atlassian-us-gov-mod.net'], urls: ['https://gov-keys.example.com/a/b', 'https://gov-keys.example.com/a/b/'] },
      ],
    });
    expect(keys.url).toBe('https://fallback.example.com');
    expect(keys.hosts).toEqual([
      { name: 'production', sites: ['*.atlassian.net', 'jira.example.com'], urls: ['https://keys.example.com', 'http://127.0.0.1:9000/keys'] },
      { name: 'gov-2', sites: ['*.atlassian-us-gov-mod.net'], urls: ['https://gov-keys.example.com/a/b'] },
    ]);
  });

  it('takes rules without installKeysUrl with the default fallback', async () => {
    expect(await resolveInstallKeys({ installKeyHosts: [rule()] })).toMatchObject({ url: CONNECT_DEFAULTS.installKeysUrl, hosts: [{ name: 'production' }] });
  });

  it.each<[string, unknown, RegExp]>([
    ['not a list', { name: 'production' }, /^installKeyHosts must be a list of at most 20 rules, not \{"name":"production"\}\.$/],
    ['21 rules', Array.from({ length: 21 }, (_, i) => rule({ name: `r${i}` })), /installKeyHosts must be a list of at most 20 rules/],
    ['a rule that is not an object', ['*.atlassian.net'], /^installKeyHosts\[0\] must be an object \{ name, sites, urls \}, not "\*\.atlassian\.net"\.$/],
    ['a name with capitals', [rule({ name: 'Production' })], /^installKeyHosts\[0\] name must be 1 to 40 characters of a-z, 0-9 and "-" .*, not "Production"\.$/],
    ['a name starting with "-"', [rule(), rule({ name: '-gov' })], /installKeyHosts\[1\] name must be .*, not "-gov"/],
    ['a name of 41 characters', [rule({ name: 'a'.repeat(41) })], /installKeyHosts\[0\] name must be 1 to 40 characters/],
    ['no name', [rule({ name: undefined })], /installKeyHosts\[0\] name must be .*, not undefined/],
    ['the reserved name "fallback"', [rule({ name: 'fallback' })], /installKeyHosts rule "fallback": the name "fallback" stands for installKeysUrl/],
    ['a duplicate name', [rule(), rule({ urls: ['https://other.example.com'] })], /^installKeyHosts rule "production" is defined twice; rule names must be unique\.$/],
    ['no sites', [rule({ sites: [] })], /^installKeyHosts rule "production" sites must be a list of 1 to 100 host patterns, not \[\]\.$/],
    ['sites as a string', [rule({ sites: '*.atlassian.net' })], /installKeyHosts rule "production" sites must be a list/],
    [
      'a site with a scheme',
      [rule({ sites: ['https://acme.atlassian.net'] })],
      /installKeyHosts rule "production" sites has "https:\/\/acme\.atlassian\.net", which is not a host name/,
    ],
    [
      'a site pattern on a top-level domain',
      [rule({ sites: ['*.net'] })],
      /installKeyHosts rule "production" sites has "\*\.net", which would match every name under a top-level domain/,
    ],
    ['no urls', [rule({ urls: [] })], /^installKeyHosts rule "production" urls must be a list of 1 to 4 install keys base URLs, not \[\]\.$/],
    ['five urls', [rule({ urls: ['a', 'b', 'c', 'd', 'e'].map((host) => `https://${host}.example.com`) })], /installKeyHosts rule "production" urls must be a list of 1 to 4/],
    ['a url that is not a string', [rule({ urls: ['https://keys.example.com', 42] })], /^installKeyHosts rule "production" urls\[1\] must be a non-empty string, not 42\.$/],
    ['a relative url', [rule({ urls: ['/keys'] })], /^installKeyHosts rule "production" urls\[0\] is refused: The install keys URL is not an absolute URL\.$/],
    ['an ftp url', [rule({ urls: ['ftp://keys.example.com'] })], /installKeyHosts rule "production" urls\[0\] is refused: The install keys URL must use http or https/],
    ['a url with credentials', [rule({ urls: ['https://user:pw@keys.example.com'] })], /urls\[0\] is refused: The install keys URL must not carry credentials/],
    ['a url with a query', [rule({ urls: ['https://keys.example.com/?region=us'] })], /urls\[0\] is refused: The install keys URL must not have a query or a fragment/],
  ])('refuses %s with config/invalid naming the rule and field', async (_name, installKeyHosts, message) => {
    await expect(resolveInstallKeys({ installKeyHosts: installKeyHosts as InstallKeyHostRule[] })).rejects.toMatchObject({
      code: 'config/invalid',
      message: expect.stringMatching(message),
    });
  });

  it('never puts the credentials of a refused url into the message', async () => {
    const error: unknown = await resolveInstallKeys({ installKeyHosts: [rule({ urls: ['https://user:s3cret@keys.example.com'] })] }).catch((rejection: unknown) => rejection);
    expect(error).toMatchObject({ code: 'config/invalid' });
    expect(String((error as Error).message)).not.toContain('s3cret');
  });
});
