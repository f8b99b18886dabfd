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
