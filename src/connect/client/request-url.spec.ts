import { ensureUnderBasePath, resolveRequestUrl, safeUrl } from './request-url.js';

describe('resolveRequestUrl', () => {
  const confluence = 'https://site.atlassian.net/wiki';

  it('resolves relative URLs under the tenant base path, once', () => {
    expect(resolveRequestUrl(confluence, '/rest/api/space', 'GET').href).toBe('https://site.atlassian.net/wiki/rest/api/space');
    expect(resolveRequestUrl(confluence, 'rest/api/space', 'GET').href).toBe('https://site.atlassian.net/wiki/rest/api/space');
    expect(resolveRequestUrl(confluence, '/wiki/rest/api/space', 'GET').href).toBe('https://site.atlassian.net/wiki/rest/api/space');
    expect(resolveRequestUrl('https://site.atlassian.net', '/rest/api/3/myself', 'GET').href).toBe('https://site.atlassian.net/rest/api/3/myself');
  });

  it('treats a protocol-relative URL as absolute, so another host is refused', () => {
    expect(() => resolveRequestUrl('https://site.atlassian.net', '//evil.example/x', 'GET')).toThrow(expect.objectContaining({ code: 'client/foreign-origin' }));
    expect(resolveRequestUrl('https://site.atlassian.net', '//site.atlassian.net/x', 'GET').href).toBe('https://site.atlassian.net/x');
  });

  it('refuses absolute URLs to another origin', () => {
    for (const url of ['https://evil.example/rest', 'http://site.atlassian.net/rest', 'https://site.atlassian.net:8443/rest', 'https://site.atlassian.net.evil.example/rest']) {
      expect(() => resolveRequestUrl(confluence, url, 'GET')).toThrow(expect.objectContaining({ code: 'client/foreign-origin' }));
    }
  });

  it('appends query parameters, repeated ones included', () => {
    expect(resolveRequestUrl(confluence, '/rest/api/content?a=1', 'GET', { expand: 'body.storage', id: [1, 2], skip: undefined }).search).toBe(
      '?a=1&expand=body.storage&id=1&id=2',
    );
  });

  it('applies a REST prefix to the product-relative path only', () => {
    expect(resolveRequestUrl(confluence, '/rest/api/space', 'GET', undefined, '/rest/token-auth/api/').pathname).toBe('/wiki/rest/token-auth/api/space');
    expect(resolveRequestUrl(confluence, '/rest/other/x', 'GET', undefined, 'rest/token-auth/api').pathname).toBe('/wiki/rest/other/x');
  });

  it('redacts a jwt parameter and credentials for logs', () => {
    expect(safeUrl(new URL('https://u:p@site.atlassian.net/x?jwt=abc&b=1'))).toBe('https://site.atlassian.net/x?jwt=%5Bredacted%5D&b=1');
  });
});

describe('ensureUnderBasePath (the Forge apiBaseUrl)', () => {
  const apiBaseUrl = 'https://api.atlassian.com/ex/jira/6f1c';
  const resolve = (url: string) => resolveRequestUrl(apiBaseUrl, url, 'GET');

  it('accepts URLs under the base path, relative or absolute', () => {
    for (const url of ['/rest/api/3/myself', `${apiBaseUrl}/rest/api/3/myself`, '/ex/jira/6f1c/rest/api/3/myself']) {
      const target = resolve(url);
      expect(target.href).toBe(`${apiBaseUrl}/rest/api/3/myself`);
      expect(() => ensureUnderBasePath(apiBaseUrl, target, 'GET')).not.toThrow();
    }
  });

  it('refuses the same gateway outside the base path, however the URL gets there', () => {
    for (const url of [
      'https://api.atlassian.com/ex/confluence/6f1c/wiki/rest/api/space',
      'https://api.atlassian.com/ex/jira/6f1cX/rest',
      '/../../confluence/6f1c/rest',
      '/%2e%2e/other/rest',
      'https://api.atlassian.com/oauth/token',
    ]) {
      expect(() => ensureUnderBasePath(apiBaseUrl, resolve(url), 'GET')).toThrow(expect.objectContaining({ code: 'client/invalid-request' }));
    }
  });
});
