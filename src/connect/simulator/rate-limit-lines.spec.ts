import { FakeConnectHost } from '../testing/fake-connect-host.js';
import type { FakeApiRequest } from '../testing/fake-product-api.js';
import { signConnectToken } from '../testing/sign-connect-token.js';
import { describeApiRequest, SIMULATED_RATE_LIMIT } from './simulation.js';

describe('simulate: the site API lines show the rate-limit budget', () => {
  it('prints the points left after each accepted call, and a spent budget', async () => {
    const host = await FakeConnectHost.start();
    try {
      const lines: string[] = [];
      const site = await host.startSite('jira', { rateLimit: { points: 2, windowMs: 60_000 }, onRequest: (request, refusal) => lines.push(describeApiRequest(request, refusal)) });
      site.api.install({ appKey: 'com.example.sim', clientKey: site.clientKey, sharedSecret: site.sharedSecret });
      for (let i = 0; i < 3; i++) {
        const token = await signConnectToken({
          clientKey: site.clientKey,
          sharedSecret: site.sharedSecret,
          method: 'GET',
          url: '/rest/api/3/myself',
          appBaseUrl: site.baseUrl,
          expiresIn: 60,
          claims: { iss: 'com.example.sim' },
        });
        await fetch(`${site.baseUrl}/rest/api/3/myself`, { headers: { authorization: `JWT ${token}` } });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(lines.map((line) => /\[rate limit: [^\]]+\]/.exec(line)?.[0])).toEqual([
        '[rate limit: 1 points left]',
        '[rate limit: 0 points left]',
        '[rate limit: budget spent, answered 429]',
      ]);
      const unmetered: FakeApiRequest = { time: new Date(), method: 'GET', path: '/x', query: '', headers: {}, status: 200, durationMs: 1, auth: 'none' };
      expect(describeApiRequest(unmetered)).toBe('site API: GET /x -> 200');
      expect(SIMULATED_RATE_LIMIT.points).toBeGreaterThan(0);
    } finally {
      await host.close();
    }
  });
});
