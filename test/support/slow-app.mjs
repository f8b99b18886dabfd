// A tiny app on the BUILT framework (dist/), for the graceful-shutdown test (test/shutdown.e2e-spec.ts).
// Plain JavaScript (a child process cannot run the TypeScript sources), so no decorators: the slow
// route is an Express handler registered with app.use. GET /slow waits SLOW_MS, then runs a query on
// the framework's pool (so the pool must still be open) and answers 200 with a body of 64 KiB.
// HTTP_ADAPTER=fastify runs it on Fastify, where app.use middleware gets the raw Node request and
// response too (through @fastify/middie).
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import { CONNECT_DATA_SOURCE, ConnectModule } from '../../dist/connect/index.js';

const port = Number(process.env.PORT);
const slowMs = Number(process.env.SLOW_MS ?? 500);
const url = process.env.DATABASE_URL || undefined;

class SlowAppRoot {}
const adapter =
  process.env.HTTP_ADAPTER === 'fastify' ? new (await import('@nestjs/platform-fastify')).FastifyAdapter() : new (await import('@nestjs/platform-express')).ExpressAdapter();
const app = await NestFactory.create(
  {
    module: SlowAppRoot,
    imports: [
      ConnectModule.forRoot({
        apps: [{ product: 'jira', key: 'com.test.slow', baseUrl: 'https://slow.example.test/jira', descriptor: { name: 'Slow' } }],
        database: url ? { url, schema: process.env.CONNECT_DATABASE_SCHEMA || undefined, poolSize: 2 } : { embeddedDataDir: 'memory' },
      }),
    ],
  },
  adapter,
  { logger: ['error', 'warn'] },
);
const dataSource = app.get(getDataSourceToken(CONNECT_DATA_SOURCE));
app.use('/slow', (request, response) => {
  console.log('slow request started');
  setTimeout(() => {
    dataSource
      .query('SELECT 42 AS answer')
      .then(([row]) => {
        response.setHeader('content-type', 'text/plain');
        response.end(`answer ${row.answer} ` + 'x'.repeat(64 * 1024));
        console.log('slow request answered');
      })
      .catch((error) => {
        response.statusCode = 500;
        response.end(String(error));
      });
  }, slowMs);
});
app.enableShutdownHooks(['SIGTERM'], { useProcessExit: true });
process.once('exit', (code) => {
  // Runs after Nest's shutdown (onApplicationShutdown closed the pool) and right before exiting.
  console.log(`exiting with ${code}; database pool ${dataSource.isInitialized ? 'STILL OPEN' : 'closed'}`);
});
await app.listen(port, '127.0.0.1');
console.log(`slow app listening on ${port} (${app.getHttpAdapter().getType()})`);
