import { exampleConfigFromEnv } from './example-config.js';

describe('exampleConfigFromEnv: HTTP_ADAPTER', () => {
  it('is express by default and when empty, fastify when asked, in any case', () => {
    expect(exampleConfigFromEnv({}).httpAdapter).toBe('express');
    expect(exampleConfigFromEnv({ HTTP_ADAPTER: '' }).httpAdapter).toBe('express');
    expect(exampleConfigFromEnv({ HTTP_ADAPTER: 'fastify' }).httpAdapter).toBe('fastify');
    expect(exampleConfigFromEnv({ HTTP_ADAPTER: ' Fastify ' }).httpAdapter).toBe('fastify');
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
