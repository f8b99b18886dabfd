import { Logger, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import type { ExampleConfig } from './example-config.js';
import { anyInterfaceHost, createExampleHttpAdapter } from './example-http-adapter.js';

/**
 * Creates the example app on the adapter `config` names and listens on its port, as `npm start` does.
 * `root` is the example's module unless given: the benchmark (bench/bench-app.mjs) starts it with one
 * more controller, and so runs the same start-up.
 */
export async function serveExample(config: ExampleConfig, root: DynamicModule = AppModule.register(config)): Promise<INestApplication> {
  const adapter = config.httpAdapter ?? 'fastify';
  const app = await NestFactory.create(root, createExampleHttpAdapter(adapter));
  // SIGTERM/SIGINT: stop accepting connections, let in-flight requests finish, close the database pool
  // and the tenant change listener, then exit 0 (without useProcessExit Nest re-raises the signal).
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  if (adapter === 'fastify') await app.listen(config.port, anyInterfaceHost());
  else await app.listen(config.port);
  const logger = new Logger('Example');
  logger.log(`Listening on port ${config.port} (${adapter}).`);
  logger.log(`Jira descriptor:       ${config.appBaseUrl}/jira/atlassian-connect.json`);
  logger.log(`Confluence descriptor: ${config.appBaseUrl}/confluence/atlassian-connect.json`);
  return app;
}
