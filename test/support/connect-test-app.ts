import { createHash } from 'node:crypto';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { createTestApp, type TestHttpAdapter } from './http-adapter.js';
import { quietLogger } from './test-database-options.js';

export interface StartedConnectApp {
  app: INestApplication;
  /** `http://127.0.0.1:<port>`: what a FakeHostApp's `via` is set to. */
  url: string;
  close(): Promise<void>;
}

/** Starts a module in a real HTTP server on 127.0.0.1 and a free port, on the suite's adapter unless one is given. */
export async function listenOn(
  module: DynamicModule,
  afterClose: () => Promise<void> = () => Promise.resolve(),
  adapter?: TestHttpAdapter | AbstractHttpAdapter,
): Promise<StartedConnectApp> {
  let app: INestApplication | undefined;
  try {
    app = await createTestApp(module, { logger: quietLogger(), abortOnError: false }, adapter);
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await app?.close().catch(() => undefined);
    await afterClose();
    throw error;
  }
  const started = app;
  const { port } = started.getHttpServer().address() as { port: number };
  return {
    app: started,
    url: `http://127.0.0.1:${port}`,
    async close() {
      await started.close();
      await afterClose();
    },
  };
}

/**
 * The qsh of a canonical request string written out by hand in a test (`GET&/api/whoami&a=1`), so
 * that what the framework must accept does not come from the framework's own canonicaliser.
 */
export function qshOf(canonical: string): string {
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
