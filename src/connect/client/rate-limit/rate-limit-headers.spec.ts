import { MAX_HEADER_LENGTH, parseRateLimitHeaders, readRateLimitHeaders } from './rate-limit-headers.js';

describe('rate-limit headers', () => {
  const now = Date.parse('2026-03-26T16:24:52Z');

  it('reads the headers Jira sends under its points quota (a logged sample)', () => {
    const observation = readRateLimitHeaders(
      new Headers({
        'Beta-Ratelimit-Policy': '"tenant-app-quota";q=100100;w=3600',
        'Beta-Ratelimit': '"tenant-app-quota";r=17842;t=2107',
        'X-Beta-Ratelimit-Reason': 'jira-quota-tenant-based',
        'X-Beta-Ratelimit-Nearlimit': 'true',
        'X-Ratelimit-Limit': '350',
      }),
      now,
    );
    expect(observation).toEqual({
      policies: [{ name: 'tenant-app-quota', limit: 100100, windowSeconds: 3600, remaining: 17842, resetSeconds: 2107 }],
      reason: 'jira-quota-tenant-based',
      nearLimit: true,
      resetAtMs: undefined,
    });
    expect(Object.isFrozen(observation!.policies)).toBe(true);
  });

  it('reads a spent budget without its policy header, and the reset time in minutes', () => {
    const observation = readRateLimitHeaders(
      new Headers({
        'beta-ratelimit': '"tenant-app-quota";r=0;t=2788',
        'x-beta-ratelimit-reason': 'jira-quota-tenant-based',
        'x-beta-ratelimit-reset': '2026-03-26T17:00Z',
      }),
      now,
    );
    expect(observation?.policies).toEqual([{ name: 'tenant-app-quota', limit: undefined, windowSeconds: undefined, remaining: 0, resetSeconds: 2788 }]);
    expect(observation?.resetAtMs).toBe(Date.parse('2026-03-26T17:00:00Z'));
    expect(observation?.nearLimit).toBeUndefined();
  });

  it('orders several budgets tightest first and matches policies by name', () => {
    const observation = parseRateLimitHeaders({
      policy: '"tenant-app-quota";q=1000;w=3600, burst;q=100;w=1',
      state: '"tenant-app-quota";r=900;t=100, burst;r=5;t=1',
    });
    expect(observation.policies.map((p) => [p.name, p.limit, p.remaining])).toEqual([
      ['burst', 100, 5],
      ['tenant-app-quota', 1000, 900],
    ]);
  });

  it('answers undefined, allocating nothing, for a response without the headers', () => {
    expect(readRateLimitHeaders(new Headers({ 'content-type': 'application/json', 'x-ratelimit-remaining': '3' }), now)).toBeUndefined();
  });

  it('ignores what it cannot read and never throws', () => {
    const samples: Record<string, string>[] = [
      { state: 'r=5;t=3' },
      { state: '"unterminated;r=1' },
      { state: '"a";r=-1;t=abc' },
      { state: '"a";r=1e9;t=1' },
      { state: '"a";r=99999999999999999;t=1' },
      { state: '"a";r;t=' },
      { state: ',,,;;;' },
      { state: '"a";r=1;r=2', policy: '"a";q=;w=x' },
      { state: `"a";r=1;t=1,${'"b";r=1,'.repeat(50)}` },
      { state: `"a";r=1;t=${'9'.repeat(MAX_HEADER_LENGTH)}` },
      { reason: 'a'.repeat(500), nearLimit: 'maybe', reset: 'tomorrow' },
      { reset: '2020-01-01T00:00Z' },
      { reset: '2099-01-01T00:00Z' },
      { state: '"\u0000\u0001";r=1' },
    ];
    for (const raw of samples) expect(() => parseRateLimitHeaders(raw, now)).not.toThrow();
    const read = samples.map((raw) => parseRateLimitHeaders(raw, now));
    expect(read[0]!.policies).toEqual([]);
    expect(read[1]!.policies).toEqual([]);
    expect(read[2]!.policies).toEqual([{ name: 'a', limit: undefined, windowSeconds: undefined, remaining: undefined, resetSeconds: undefined }]);
    expect(read[3]!.policies[0]!.remaining).toBeUndefined();
    expect(read[4]!.policies[0]!.remaining).toBeUndefined();
    expect(read[7]!.policies[0]).toMatchObject({ remaining: 1, limit: undefined, windowSeconds: undefined });
    expect(read[8]!.policies.length).toBe(2); // "a" and "b" (repeats of a name count once)
    expect(read[9]!.policies).toEqual([]); // longer than MAX_HEADER_LENGTH: not read at all
    expect(read[10]).toEqual({ policies: [], reason: undefined, nearLimit: undefined, resetAtMs: undefined });
    expect(read[11]!.resetAtMs).toBeUndefined(); // in the past
    expect(read[12]!.resetAtMs).toBeUndefined(); // more than a day away
    expect(read[13]!.policies).toEqual([]);
  });

  it('caps the budgets read from one header', () => {
    const many = Array.from({ length: 20 }, (_, i) => `p${i};r=${i}`).join(', ');
    expect(parseRateLimitHeaders({ state: many }).policies.length).toBe(8);
  });

  it('accepts decimal seconds and structured-field booleans', () => {
    const observation = parseRateLimitHeaders({ state: '"q";r=3;t=1.25', nearLimit: '?1' });
    expect(observation.policies[0]!.resetSeconds).toBe(1.25);
    expect(observation.nearLimit).toBe(true);
    expect(parseRateLimitHeaders({ nearLimit: 'false' }).nearLimit).toBe(false);
  });
});
