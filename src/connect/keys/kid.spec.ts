import { ConnectError } from '../errors/connect-error.js';
import { parseInstallKeysBaseUrl } from '../config/url-options.js';
import { installKeyUrl, isSafeKid, MAX_KID_LENGTH } from './kid.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectError);
    return (error as ConnectError).code;
  }
  return undefined;
}

describe('isSafeKid', () => {
  it.each(['a', 'Z', '7', '0f0e2d5c-6b6a-4e53-8a7b-2f1d8a1b9c3e', 'A1B2C3', 'key_2024-01', 'k'.repeat(MAX_KID_LENGTH)])('accepts %p', (kid) => {
    expect(isSafeKid(kid)).toBe(true);
  });

  it.each([
    '',
    '../etc/passwd',
    '..',
    '.',
    'a.b',
    'a/b',
    '/a',
    'a%2Fb',
    '%2e%2e',
    'http://evil.example',
    'a:b',
    'a?b',
    'a#b',
    'a b',
    ' a',
    'a\n',
    'a\u0000',
    '-leading-dash',
    '_leading-underscore',
    'é',
    'k'.repeat(MAX_KID_LENGTH + 1),
    'k'.repeat(200),
  ])('refuses %p', (kid) => {
    expect(isSafeKid(kid)).toBe(false);
  });

  it.each([undefined, null, 42, {}, ['a'], new String('a')])('refuses the non-string %p', (kid) => {
    expect(isSafeKid(kid)).toBe(false);
  });
});

describe('installKeyUrl', () => {
  it('appends the kid as one path segment to a bare origin', () => {
    expect(installKeyUrl('https://connect-install-keys.atlassian.com', 'abc-123')).toBe('https://connect-install-keys.atlassian.com/abc-123');
    expect(installKeyUrl('https://connect-install-keys.atlassian.com/', 'abc-123')).toBe('https://connect-install-keys.atlassian.com/abc-123');
  });

  it('keeps a base path prefix, with or without a trailing slash, and a port', () => {
    expect(installKeyUrl('http://127.0.0.1:4000/keys/v1', 'k1')).toBe('http://127.0.0.1:4000/keys/v1/k1');
    expect(installKeyUrl('http://127.0.0.1:4000/keys/v1/', 'k1')).toBe('http://127.0.0.1:4000/keys/v1/k1');
    expect(installKeyUrl('http://127.0.0.1:4000/keys/v1//', 'k1')).toBe('http://127.0.0.1:4000/keys/v1/k1');
  });

  it.each(['..', '../x', 'a/b', '%2F', 'http://evil.example', '', 'k'.repeat(200)])('refuses the unsafe kid %p with jwt/invalid-kid', (kid) => {
    expect(codeOf(() => installKeyUrl('https://keys.example', kid))).toBe('jwt/invalid-kid');
  });

  it.each([
    'not a url',
    '/relative/path',
    'ftp://keys.example',
    'file:///etc',
    'javascript:alert(1)',
    'https://user:pass@keys.example',
    'https://keys.example/?a=1',
    'https://keys.example/?',
    'https://keys.example/#frag',
  ])('refuses the base URL %p with config/invalid', (base) => {
    expect(codeOf(() => installKeyUrl(base, 'k1'))).toBe('config/invalid');
    expect(codeOf(() => parseInstallKeysBaseUrl(base))).toBe('config/invalid');
  });

  it('never leaves the base origin for any safe kid', () => {
    const base = 'https://keys.example/prefix';
    for (const kid of ['a', 'A-b_c', '0'.repeat(128)]) {
      const url = new URL(installKeyUrl(base, kid));
      expect(url.origin).toBe('https://keys.example');
      expect(url.pathname).toBe(`/prefix/${kid}`);
      expect(url.search).toBe('');
    }
  });
});
