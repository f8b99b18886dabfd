import { ConnectError } from '../errors/connect-error.js';
import { allowedHostPatternsOption, isAllowedSiteUrl, LOOPBACK_HOST_PATTERNS } from './allowed-host-patterns.js';
import { CONNECT_DEFAULTS } from './connect-defaults.js';
import { resolveConnectApps } from './resolve-connect-apps.js';

const DEFAULTS = allowedHostPatternsOption('app', CONNECT_DEFAULTS.apps.allowedHostPatterns);
const allowed = (url: string, patterns: readonly string[] = DEFAULTS) => isAllowedSiteUrl(patterns, new URL(url));

function refusal(value: unknown): string {
  try {
    allowedHostPatternsOption('com.test.hosts', value);
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe('config/invalid');
    return (error as Error).message;
  }
  throw new Error(`${JSON.stringify(value)} was accepted`);
}

describe('isAllowedSiteUrl with the default patterns', () => {
  it("accepts Atlassian's cloud sites over https, one label or more before the domain", () => {
    for (const url of [
      'https://acme.atlassian.net',
      'https://acme.atlassian.net/wiki',
      'https://a.b.atlassian.net',
      'https://ACME.Atlassian.NET',
      'https://old.jira.com',
      'https://acme.jira-dev.com',
      'https://dev.atlassian-dev.net',
      'https://agency.atlassian-us-gov-mod.net',
      'https://agency.atlassian-us-gov-mod.com',
      'https://sandbox.atlassian-fex.net',
      'https://acme.atlassian.net:443/',
    ]) {
      expect([url, allowed(url)]).toEqual([url, true]);
    }
  });

  it('refuses the bare domain, look-alikes, other hosts, http and credentials', () => {
    for (const url of [
      'https://atlassian.net',
      'https://evilatlassian.net',
      'https://acme.atlassian.net.evil.com',
      'https://evil.example.com',
      'https://acme.atlassian.net@evil.example.com',
      'https://user:pass@acme.atlassian.net',
      'http://acme.atlassian.net',
      'ftp://acme.atlassian.net',
      'https://acme.atlassian.net.',
      'https://203.0.113.7',
    ]) {
      expect([url, allowed(url)]).toEqual([url, false]);
    }
  });

  it('refuses loopback unless a pattern names it, and then allows http for it only', () => {
    for (const url of ['http://127.0.0.1:4000', 'https://localhost', 'http://[::1]:80/wiki']) expect([url, allowed(url)]).toEqual([url, false]);
    const withLoopback = allowedHostPatternsOption('app', [...CONNECT_DEFAULTS.apps.allowedHostPatterns, ...LOOPBACK_HOST_PATTERNS]);
    for (const url of ['http://127.0.0.1:4000', 'https://localhost', 'http://localhost:3000/jira', 'http://[::1]:80/wiki']) {
      expect([url, allowed(url, withLoopback)]).toEqual([url, true]);
    }
    // Only the loopback names listed, and plain http only for them.
    expect(allowed('http://127.0.0.2:4000', withLoopback)).toBe(false);
    expect(allowed('http://acme.atlassian.net', withLoopback)).toBe(false);
  });
});

describe('isAllowedSiteUrl with custom patterns', () => {
  it('matches a pattern without * exactly, and a wildcard never on an IP address', () => {
    const patterns = allowedHostPatternsOption('app', ['Jira.Example.com', '*.sites.example.org', '198.51.100.4']);
    expect(patterns).toEqual(['jira.example.com', '*.sites.example.org', '198.51.100.4']);
    expect(allowed('https://jira.example.com/jira', patterns)).toBe(true);
    expect(allowed('https://sub.jira.example.com', patterns)).toBe(false);
    expect(allowed('https://a.sites.example.org', patterns)).toBe(true);
    expect(allowed('https://sites.example.org', patterns)).toBe(false);
    expect(allowed('https://198.51.100.4', patterns)).toBe(true);
    expect(allowed('https://acme.atlassian.net', patterns)).toBe(false);
  });
});

describe('allowedHostPatternsOption', () => {
  it('refuses what is not a non-empty list of host patterns, naming the app', () => {
    expect(refusal([])).toMatch(/^App "com\.test\.hosts" allowedHostPatterns must be a list of 1 to 100 host patterns, not \[\]\.$/);
    expect(refusal('*.atlassian.net')).toMatch(/must be a list/);
    expect(refusal(Array.from({ length: 101 }, (_, i) => `h${i}.example.com`))).toMatch(/must be a list of 1 to 100/);
    for (const bad of [
      '',
      'https://acme.atlassian.net',
      'acme.atlassian.net:443',
      'acme.atlassian.net/wiki',
      'a*.atlassian.net',
      '*atlassian.net',
      '*.*.net',
      'acme.*.net',
      '-x.example.com',
      'a_b.example.com',
      42,
      null,
    ]) {
      expect([bad, refusal([bad])]).toEqual([bad, expect.stringMatching(/which is not a host name/)]);
    }
    expect(refusal(['*.net'])).toMatch(/would match every name under a top-level domain/);
    expect(refusal(['*.0.1'])).toMatch(/would match IP addresses/);
  });

  it('is checked at start-up for every app, and defaults to CONNECT_DEFAULTS.apps.allowedHostPatterns', () => {
    const base = { product: 'jira' as const, key: 'com.test.hosts', baseUrl: 'https://hosts.example.com', descriptor: {} };
    expect(resolveConnectApps([base])[0]!.allowedHostPatterns).toEqual(CONNECT_DEFAULTS.apps.allowedHostPatterns);
    expect(resolveConnectApps([{ ...base, allowedHostPatterns: ['jira.example.com'] }])[0]!.allowedHostPatterns).toEqual(['jira.example.com']);
    expect(() => resolveConnectApps([{ ...base, allowedHostPatterns: ['https://jira.example.com'] }])).toThrow(
      expect.objectContaining({ code: 'config/invalid', message: expect.stringContaining('App "com.test.hosts" allowedHostPatterns has "https://jira.example.com"') }),
    );
  });
});
