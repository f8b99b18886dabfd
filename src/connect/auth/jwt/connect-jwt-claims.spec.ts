import { ConnectError } from '../../errors/connect-error.js';
import { decodeUnverifiedFit } from '../../forge/forge-token-claims.js';
import { audienceMatches, decodeUnverified } from './connect-jwt-claims.js';

const part = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64url');
const token = (header: Buffer | string, payload: Buffer | string) => `${part(header)}.${part(payload)}.c2ln`;
const now = Math.floor(Date.now() / 1000);

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectError);
    return (error as ConnectError).code;
  }
  return undefined;
}

describe('decodeUnverified (signed installs) and decodeUnverifiedFit (Forge)', () => {
  const header = JSON.stringify({ alg: 'RS256', kid: 'k1' });
  const payload = JSON.stringify({ iss: 'c', exp: now + 60, sub: 'user' });

  it('read well-formed UTF-8 tokens', () => {
    expect(decodeUnverified(token(header, payload)).claims).toMatchObject({ iss: 'c', sub: 'user' });
    expect(decodeUnverifiedFit(token(header, payload)).header.kid).toBe('k1');
  });

  it.each([
    ['a stray 0xFF in the payload', header, Buffer.concat([Buffer.from(payload.slice(0, -2)), Buffer.from([0xff]), Buffer.from('"}')])],
    ['an overlong "/" in the payload', header, Buffer.concat([Buffer.from('{"iss":"c'), Buffer.from([0xc0, 0xaf]), Buffer.from(`","exp":${now + 60}}`)])],
    ['an encoded surrogate in the header', Buffer.concat([Buffer.from('{"alg":"RS256","kid":"k1","x":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), payload],
  ])('refuse %s as malformed instead of repairing it', (_name, h, p) => {
    expect(codeOf(() => decodeUnverified(token(h, p)))).toBe('jwt/malformed');
    expect(codeOf(() => decodeUnverifiedFit(token(h, p)))).toBe('forge/invalid-token');
  });

  it('refuse a token whose nbf is at or after its exp as malformed', () => {
    for (const nbf of [now + 60, now + 61]) {
      const p = JSON.stringify({ iss: 'c', exp: now + 60, nbf });
      expect(codeOf(() => decodeUnverified(token(header, p)))).toBe('jwt/malformed');
      expect(codeOf(() => decodeUnverifiedFit(token(header, p)))).toBe('forge/invalid-token');
    }
    expect(codeOf(() => decodeUnverified(token(header, JSON.stringify({ iss: 'c', exp: now + 60, nbf: now + 59 }))))).toBeUndefined();
  });
});

describe('audienceMatches', () => {
  const accepted = ['https://app.example.com/jira', 'https://tunnel.example.net/jira'];
  it('takes a string or a list naming one accepted base URL, trailing slash or not', () => {
    expect(audienceMatches('https://app.example.com/jira', accepted)).toBe(true);
    expect(audienceMatches('https://tunnel.example.net/jira/', accepted)).toBe(true);
    expect(audienceMatches(['x', 'https://app.example.com/jira'], accepted)).toBe(true);
  });
  it('refuses anything else', () => {
    for (const aud of ['https://app.example.com', 'https://app.example.com/jira2', [], ['x'], 42, null, { a: 1 }]) expect(audienceMatches(aud, accepted)).toBe(false);
  });
});
