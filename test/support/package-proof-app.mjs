// The app of test/package.e2e-spec.ts: copied into a temporary project that installed the PACKED
// framework (`npm pack`) with its peers, so every import below resolves there, as in a user's app.
// Plain JavaScript (nothing to compile), decorators applied by hand. One Jira app on ConnectModule,
// a `@ConnectAuth()` route, the framework's descriptor, lifecycle and health routes.
//
// Environment: PORT, HTTP_ADAPTER (express | fastify), APP_BASE_URL, INSTALL_KEYS_URL, DATABASE_URL
// and CONNECT_DATABASE_SCHEMA (none: the embedded engine, in memory), RETENTION_SCHEDULE (`off` for
// `retention: { schedule: false }`; unset for the default), SCHEDULE_MODULE=1 to import
// ScheduleModule.forRoot() from the app's @nestjs/schedule.
//
// Prints `ready {json}` once listening. A failed start-up prints `startup failed {json}` on stderr (with
// the phase it failed in) and sets exit code 1 WITHOUT calling process.exit: a start-up that left an
// engine, a pool or a timer behind keeps the process alive, which the test sees as a timeout.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConnectAuth, ConnectContext, ConnectModule } from 'atlassian-connect-nest';

const env = process.env;
const RETENTION_JOB = 'atlassian-connect:tenant-retention';

class WhoamiController {
  whoami(context) {
    return { app: context.app.key, clientKey: context.clientKey };
  }
}
ConnectContext()(WhoamiController.prototype, 'whoami', 0);
Reflect.decorate([Get('api/whoami'), ConnectAuth()], WhoamiController.prototype, 'whoami', Object.getOwnPropertyDescriptor(WhoamiController.prototype, 'whoami'));
Controller('jira')(WhoamiController);

const schedule = await (env.SCHEDULE_MODULE === '1' ? import('@nestjs/schedule') : undefined);

class AppModule {}
Module({
  imports: [
    ...(schedule ? [schedule.ScheduleModule.forRoot()] : []),
    ConnectModule.forRoot({
      apps: [{ product: 'jira', key: 'com.example.packaged', baseUrl: env.APP_BASE_URL, descriptor: { name: 'Packaged', scopes: ['READ'], modules: {} } }],
      installKeysUrl: env.INSTALL_KEYS_URL,
      database: env.DATABASE_URL ? { url: env.DATABASE_URL, schema: env.CONNECT_DATABASE_SCHEMA, poolSize: 2 } : { embeddedDataDir: 'memory' },
      ...(env.RETENTION_SCHEDULE === 'off' ? { retention: { schedule: false } } : {}),
    }),
  ],
  controllers: [WhoamiController],
})(AppModule);

let app;
// `create`: while Nest builds the modules (providers, the options check), before any HTTP server;
// `listen`: in the init hooks or the listen that follow.
let phase = 'create';
try {
  const adapter =
    env.HTTP_ADAPTER === 'fastify' ? new (await import('@nestjs/platform-fastify')).FastifyAdapter() : new (await import('@nestjs/platform-express')).ExpressAdapter();
  app = await NestFactory.create(AppModule, adapter, { logger: ['error', 'warn'], abortOnError: false });
  phase = 'listen';
  app.enableShutdownHooks(['SIGTERM']);
  await app.listen(Number(env.PORT), '127.0.0.1');
} catch (error) {
  await app?.close().catch(() => undefined);
  const facts = { phase, name: error?.name, code: error?.code, message: error?.message, ctor: error?.constructor?.name };
  process.stderr.write(`startup failed ${JSON.stringify(facts)}\n`);
  process.exitCode = 1;
}
if (process.exitCode !== 1) {
  const registry = schedule ? app.get(schedule.SchedulerRegistry) : undefined;
  const facts = { adapter: app.getHttpAdapter().getType(), retentionJobListed: registry ? registry.doesExist('cron', RETENTION_JOB) : null };
  process.stdout.write(`ready ${JSON.stringify(facts)}\n`);
}
