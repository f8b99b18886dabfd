import { EXAMPLE_FORGE_APP_IDS, exampleConfigFromEnv } from './example-config.js';

describe('exampleConfigFromEnv: HTTP_ADAPTER', () => {
  it('is fastify by default and when empty, express when asked, in any case', () => {
    expect(exampleConfigFromEnv({}).httpAdapter).toBe('fastify');
    expect(exampleConfigFromEnv({ HTTP_ADAPTER: '' }).httpAdapter).toBe('fastify');
    expect(exampleConfigFromEnv({ HTTP_ADAPTER: 'express' }).httpAdapter).toBe('express');
    expect(exampleConfigFromEnv({ HTTP_ADAPTER: ' Express ' }).httpAdapter).toBe('express');
    expect(exampleConfigFromEnv({ HTTP_ADAPTER: 'fastify' }).httpAdapter).toBe('fastify');
  });

  it('refuses anything else, naming the choices and the value', () => {
    expect(() => exampleConfigFromEnv({ HTTP_ADAPTER: 'koa' })).toThrow('HTTP_ADAPTER must be express or fastify, not "koa".');
  });
});

describe('exampleConfigFromEnv: FORGE_SYNC_INTERVAL_MS', () => {
  it('is unset by default (the app then uses 15 minutes), a number of ms when given, 0 for off', () => {
    expect(exampleConfigFromEnv({}).forgeSyncIntervalMs).toBeUndefined();
    expect(exampleConfigFromEnv({ FORGE_SYNC_INTERVAL_MS: '60000' }).forgeSyncIntervalMs).toBe(60_000);
    expect(exampleConfigFromEnv({ FORGE_SYNC_INTERVAL_MS: '0' }).forgeSyncIntervalMs).toBe(0);
  });

  it.each(['soon', '-1', '1.5'])('refuses %j: a timer of NaN ms would fire at once, over and over', (value) => {
    expect(() => exampleConfigFromEnv({ FORGE_SYNC_INTERVAL_MS: value })).toThrow('FORGE_SYNC_INTERVAL_MS must be a whole number of milliseconds');
  });
});

describe('exampleConfigFromEnv: FORGE_APP_ID_JIRA / FORGE_APP_ID_CONFLUENCE', () => {
  it('uses the example ids when unset or empty, so npm start serves the Forge endpoints and manifest works with no setup', () => {
    expect(exampleConfigFromEnv({})).toMatchObject({ forgeAppIdJira: EXAMPLE_FORGE_APP_IDS.jira, forgeAppIdConfluence: EXAMPLE_FORGE_APP_IDS.confluence });
    expect(exampleConfigFromEnv({ FORGE_APP_ID_JIRA: '' }).forgeAppIdJira).toBe(EXAMPLE_FORGE_APP_IDS.jira);
    expect(EXAMPLE_FORGE_APP_IDS.jira).not.toBe(EXAMPLE_FORGE_APP_IDS.confluence);
  });

  it('takes the ids given', () => {
    const id = '3c5e2f60-8d1b-4f2a-9e47-6b0a1c2d3e4f';
    expect(exampleConfigFromEnv({ FORGE_APP_ID_JIRA: id, FORGE_APP_ID_CONFLUENCE: id })).toMatchObject({ forgeAppIdJira: id, forgeAppIdConfluence: id });
  });
});

describe('exampleConfigFromEnv: loopback sites', () => {
  it('accepts the simulator and test sites on loopback outside production only', () => {
    expect(exampleConfigFromEnv({}).allowLoopbackSites).toBe(true);
    expect(exampleConfigFromEnv({ NODE_ENV: 'development' }).allowLoopbackSites).toBe(true);
    expect(exampleConfigFromEnv({ NODE_ENV: 'production' }).allowLoopbackSites).toBe(false);
  });
});
