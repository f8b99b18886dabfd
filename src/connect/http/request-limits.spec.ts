import { ConnectError } from '../errors/connect-error.js';
import { jsonDepthExceeds } from '../lifecycle/json-depth.js';
import { frameAncestorsPolicy, pageSecurityHeaders } from '../auth/page-security-headers.js';
import { assertHeaderCount, clientAddress, headerCount, isHttpsRequest, TokenBucketLimiter } from './request-limits.js';

describe('TokenBucketLimiter', () => {
  it('allows `limit` at once, then refills at limit/window and says how long to wait', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter({ limit: 3, windowMs: 60_000, maxSources: 10 }, () => now);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(20);
    expect(limiter.take('b')).toBe(0);
    now = 19_000;
    expect(limiter.take('a')).toBeGreaterThan(0);
    now = 41_000;
    expect(limiter.take('a')).toBe(0);
  });

  it('keeps at most maxSources buckets, forgetting the least recently seen', () => {
    const limiter = new TokenBucketLimiter({ limit: 1, windowMs: 60_000, maxSources: 2 }, () => 0);
    limiter.take('a');
    limiter.take('b');
    limiter.take('a');
    limiter.take('c'); // evicts b
    expect(limiter.size).toBe(2);
    expect(limiter.take('a')).toBeGreaterThan(0);
    expect(limiter.take('b')).toBe(0);
  });

  it('refuses nonsense settings as config/invalid', () => {
    expect(() => new TokenBucketLimiter({ limit: 0, windowMs: 1, maxSources: 1 })).toThrow(ConnectError);
    expect(() => new TokenBucketLimiter({ limit: 1, windowMs: Number.NaN, maxSources: 1 })).toThrow(ConnectError);
  });
});

describe('request facts', () => {
  it('counts raw header lines, repeated ones included', () => {
    expect(headerCount({ rawHeaders: ['a', '1', 'a', '2', 'b', '3'], headers: { a: '1, 2', b: '3' } })).toBe(3);
    expect(headerCount({ headers: { a: '1', b: '2' } })).toBe(2);
    expect(() => assertHeaderCount({ rawHeaders: new Array(202).fill('x') }, 100)).toThrow(expect.objectContaining({ code: 'request/too-many-headers' }));
    expect(() => assertHeaderCount({ rawHeaders: new Array(200).fill('x') }, 100)).not.toThrow();
  });

  it('reads the source address and https from the adapter first, the socket otherwise', () => {
    expect(clientAddress({ ip: '10.0.0.1', socket: { remoteAddress: '127.0.0.1' } })).toBe('10.0.0.1');
    expect(clientAddress({ socket: { remoteAddress: '::1' } })).toBe('::1');
    expect(clientAddress({})).toBe('unknown');
    expect(isHttpsRequest({ protocol: 'http', socket: { encrypted: true } })).toBe(false);
    expect(isHttpsRequest({ socket: { encrypted: true } })).toBe(true);
    expect(isHttpsRequest({ headers: { 'x-forwarded-proto': 'https' } })).toBe(false);
  });

  it('reads a Fastify request, which keeps the Node request in `raw`', () => {
    const raw = { rawHeaders: ['host', 'a', 'x', '1', 'x', '2'], socket: { remoteAddress: '10.0.0.9', encrypted: true } };
    const fastifyRequest = { headers: { host: 'a', x: '1, 2' }, raw };
    expect(headerCount(fastifyRequest)).toBe(3);
    expect(clientAddress(fastifyRequest)).toBe('10.0.0.9');
    expect(isHttpsRequest(fastifyRequest)).toBe(true);
    // its own ip and protocol (which honour trustProxy) come first
    expect(clientAddress({ ...fastifyRequest, ip: '192.0.2.1' })).toBe('192.0.2.1');
    expect(isHttpsRequest({ ...fastifyRequest, protocol: 'http' })).toBe(false);
  });
});

describe('jsonDepthExceeds', () => {
  it('measures containers, not scalars', () => {
    expect(jsonDepthExceeds(1, 0)).toBe(false);
    expect(jsonDepthExceeds({}, 1)).toBe(false);
    expect(jsonDepthExceeds({ a: [] }, 1)).toBe(true);
    expect(jsonDepthExceeds({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(jsonDepthExceeds({ a: [{ b: {} }] }, 3)).toBe(true);
  });

  it('handles a million levels without recursion', () => {
    let deep: unknown = null;
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    expect(jsonDepthExceeds(deep, 20)).toBe(true);
    expect(jsonDepthExceeds(JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)), 20)).toBe(true);
  });
});

describe('page security headers', () => {
  it('frames only the tenant origins, de-duplicated; HSTS only over https', () => {
    expect(frameAncestorsPolicy({ baseUrl: 'https://a.atlassian.net/wiki', displayUrl: 'https://a.atlassian.net' })).toBe('frame-ancestors https://a.atlassian.net');
    expect(frameAncestorsPolicy({ baseUrl: 'https://a.atlassian.net', displayUrl: 'https://docs.example.com/x' })).toBe(
      'frame-ancestors https://a.atlassian.net https://docs.example.com',
    );
    expect(frameAncestorsPolicy({ baseUrl: 'not a url', displayUrl: null })).toBe("frame-ancestors 'none'");
    expect(pageSecurityHeaders({ baseUrl: 'https://a.atlassian.net', displayUrl: null }, false)).toEqual({ 'content-security-policy': 'frame-ancestors https://a.atlassian.net' });
    expect(pageSecurityHeaders({ baseUrl: 'https://a.atlassian.net', displayUrl: null }, true)['strict-transport-security']).toBe('max-age=31536000');
  });
});
