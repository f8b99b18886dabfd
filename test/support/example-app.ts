import type { LoggerService, Provider } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { FakeConnectHost, startTestDatabase } from 'atlassian-connect-nest/testing';
import { AppModule, CONFLUENCE_APP_KEY, JIRA_APP_KEY } from '../../src/example/app.module.js';
import type { ExampleConfig } from '../../src/example/example-config.js';
import { createExampleHttpAdapter } from '../../src/example/example-http-adapter.js';
import type { RunningApp } from './fixture-app.js';
import { createTestApp, testAdapterName } from './http-adapter.js';

/** The public URL the example app believes it has; requests really go to 127.0.0.1. */
export const PUBLIC_BASE_URL = 'https://connect-nest.example.test';

/** A running example app: the same handles as a running fixture app. */
export type RunningExample = RunningApp;

/**
 * For the suites about the example app itself (src/example/: its routes, its settings, the command line
 * against it); suites about the framework start a fixture app instead (./fixture-app.ts).
 *
 * Starts the real example app on a free port, against real PostgreSQL (a schema of its own) when
 * DATABASE_URL is set and the embedded engine otherwise, with a fake Atlassian host for signed installs.
 * It runs on the suite's adapter (`CONNECT_TEST_ADAPTER`) unless `overrides.httpAdapter` names one, made
 * as `npm start` makes it (`createExampleHttpAdapter`, so tuned by `tuneHttpAdapter()`), or on `adapter`,
 * an instance to use (for adapter options such as a trusted proxy).
 */
export async function startExample(
  overrides: Partial<ExampleConfig> = {},
  host?: FakeConnectHost,
  logger?: LoggerService,
  extraProviders: Provider[] = [],
  adapter?: AbstractHttpAdapter,
): Promise<RunningExample> {
  const fakeHost = host ?? (await FakeConnectHost.start());
  const database = process.env.DATABASE_URL ? await startTestDatabase() : undefined;
  const config: ExampleConfig = {
    port: 0,
    httpAdapter: testAdapterName(),
    appBaseUrl: PUBLIC_BASE_URL,
    // The suites install both Atlassian-domain sites (newSite) and loopback ones (startSite).
    allowLoopbackSites: true,
    installKeysUrl: fakeHost.installKeysUrl,
    authorizationServerUrl: fakeHost.authorizationServerUrl,
    ...(database ? { databaseUrl: database.url, databaseSchema: database.schema } : { embeddedDataDir: 'memory' }),
    ...overrides,
  };
  const root = AppModule.register(config);
  const app = await createTestApp(
    { ...root, providers: [...(root.providers ?? []), ...extraProviders] },
    { logger: logger ?? quietLogger() },
    adapter ?? createExampleHttpAdapter(config.httpAdapter),
  );
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  return {
    app,
    url,
    host: fakeHost,
    jira: { key: JIRA_APP_KEY, product: 'jira', baseUrl: `${config.appBaseUrl}/jira`, via: url },
    confluence: { key: CONFLUENCE_APP_KEY, product: 'confluence', baseUrl: `${config.appBaseUrl}/confluence`, via: url },
    async close() {
      await app.close();
      if (!host) await fakeHost.close();
      await database?.stop();
    },
  };
}

function quietLogger(): false | ['error', 'warn'] {
  return process.env.CONNECT_TEST_LOGS ? ['error', 'warn'] : false;
}
