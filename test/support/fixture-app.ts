import type { INestApplication, LoggerService, Provider, Type } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { CONNECT_DEFAULTS, type ConnectModuleOptions } from 'atlassian-connect-nest';
import { FakeConnectHost, LOOPBACK_HOST_PATTERNS, type FakeHostApp } from 'atlassian-connect-nest/testing';
import { FIXTURE_CONFLUENCE_KEY, FIXTURE_JIRA_KEY, TwoProductAppModule } from '../fixtures/two-product-app.js';
import { createTestApp, type TestHttpAdapter } from './http-adapter.js';
import { quietLogger, startTestDatabase } from './test-database-options.js';

/** The public URL the fixture app believes it has; requests really go to 127.0.0.1. */
export const FIXTURE_PUBLIC_BASE_URL = 'https://fixture.example.test';

/** A running app of a suite, with the fake host that installs into it and its two apps as the host sees them. */
export interface RunningApp {
  app: INestApplication;
  /** `http://127.0.0.1:<port>` */
  url: string;
  host: FakeConnectHost;
  jira: FakeHostApp;
  confluence: FakeHostApp;
  close(): Promise<void>;
}

export interface FixtureAppOptions {
  /** The fake host to install with (default a new one, closed by `close()`; one given is left open). */
  host?: FakeConnectHost;
  logger?: LoggerService;
  /** The suite's adapter (`CONNECT_TEST_ADAPTER`) unless one is named, or an instance to use (adapter options such as a trusted proxy). */
  adapter?: TestHttpAdapter | AbstractHttpAdapter;
  /** More ConnectModule options (install keys, authorization server and database are set already). */
  connect?: Omit<ConnectModuleOptions, 'apps'>;
  /**
   * Both apps' `allowedHostPatterns`. Default: Atlassian's domains (the `newSite()` sites) and loopback
   * (the `startSite()` sites, plain http on 127.0.0.1).
   */
  allowedHostPatterns?: readonly string[];
  forgeAppIds?: { jira?: string; confluence?: string };
  controllers?: Type<unknown>[];
  providers?: Provider[];
}

/** What the fixture apps accept by default: Atlassian's sites and the test kit's loopback ones. */
export const FIXTURE_HOST_PATTERNS = Object.freeze([...CONNECT_DEFAULTS.apps.allowedHostPatterns, ...LOOPBACK_HOST_PATTERNS]);

/**
 * Starts the two-product fixture app (test/fixtures/two-product-app.ts) on a free port, against real
 * PostgreSQL (a schema of its own) when DATABASE_URL is set and the embedded engine otherwise, with a
 * fake Atlassian host for signed installs and user tokens.
 */
export async function startFixtureApp(options: FixtureAppOptions = {}): Promise<RunningApp> {
  const host = options.host ?? (await FakeConnectHost.start());
  const database = await startTestDatabase();
  let app: INestApplication | undefined;
  try {
    const root = TwoProductAppModule.register({
      publicBaseUrl: FIXTURE_PUBLIC_BASE_URL,
      connect: {
        installKeysUrl: host.installKeysUrl,
        client: { authorizationServerUrl: host.authorizationServerUrl },
        database: database.database,
        ...options.connect,
      },
      allowedHostPatterns: options.allowedHostPatterns ?? FIXTURE_HOST_PATTERNS,
      ...(options.forgeAppIds !== undefined && { forgeAppIds: options.forgeAppIds }),
      ...(options.controllers !== undefined && { controllers: options.controllers }),
      ...(options.providers !== undefined && { providers: options.providers }),
    });
    app = await createTestApp(root, { logger: options.logger ?? quietLogger() }, options.adapter);
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await app?.close().catch(() => undefined);
    await database.stop();
    if (!options.host) await host.close();
    throw error;
  }
  const started = app;
  const { port } = started.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    app: started,
    url,
    host,
    jira: { key: FIXTURE_JIRA_KEY, product: 'jira', baseUrl: `${FIXTURE_PUBLIC_BASE_URL}/jira`, via: url },
    confluence: { key: FIXTURE_CONFLUENCE_KEY, product: 'confluence', baseUrl: `${FIXTURE_PUBLIC_BASE_URL}/confluence`, via: url },
    async close() {
      await started.close();
      if (!options.host) await host.close();
      await database.stop();
    },
  };
}
