import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { exampleConfigFromEnv } from './example-config.js';
import { anyInterfaceHost, createExampleHttpAdapter } from './example-http-adapter.js';

async function main(): Promise<void> {
  const config = exampleConfigFromEnv();
  const app = await NestFactory.create(AppModule.register(config), createExampleHttpAdapter(config.httpAdapter));
  // SIGTERM/SIGINT: stop accepting connections, let in-flight requests finish, close the database pool
  // and the tenant change listener, then exit 0 (without useProcessExit Nest re-raises the signal).
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  if (config.httpAdapter === 'fastify') await app.listen(config.port, anyInterfaceHost());
  else await app.listen(config.port);
  const logger = new Logger('Example');
  logger.log(`Listening on port ${config.port} (${config.httpAdapter ?? 'express'}).`);
  logger.log(`Jira descriptor:       ${config.appBaseUrl}/jira/atlassian-connect.json`);
  logger.log(`Confluence descriptor: ${config.appBaseUrl}/confluence/atlassian-connect.json`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
