// The app the benchmark measures: the built example app (dist/example/, started by the very code
// `npm start` runs) plus one controller of the bench's own, the baseline. Started by bench/app-process.mjs
// as `node bench/bench-app.mjs`, with the same environment the example reads (PORT, HTTP_ADAPTER, ...).
//
// GET /jira/bench/bare: the same app, the same adapter and a response of the same shape and size as
// `GET /jira/api/whoami`, but no `@ConnectAuth()` guard. The ratio of an authenticated route's throughput
// to this one's is the price of authentication. It returns constants only: nothing about any tenant.
//
// Plain JavaScript (node runs it without a build), so Nest's decorators are applied as the functions they
// are: `@Get('bare')` on the method, then `@Controller('jira/bench')` on the class.
import 'reflect-metadata';
import { Controller, Get, Inject } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AppModule } from '../dist/example/app.module.js';
import { exampleConfigFromEnv } from '../dist/example/example-config.js';
import { serveExample } from '../dist/example/serve-example.js';

class BenchController {
  constructor(adapterHost) {
    this.adapterHost = adapterHost;
  }

  /** Which adapter the app really runs on (`express` or `fastify`), for the report. */
  adapter() {
    return { adapter: this.adapterHost.httpAdapter.getType() };
  }

  bare() {
    return { clientKey: '00000000-0000-4000-8000-000000000000', accountId: null, productType: 'jira' };
  }
}
Get('bare')(BenchController.prototype, 'bare', Object.getOwnPropertyDescriptor(BenchController.prototype, 'bare'));
Get('adapter')(BenchController.prototype, 'adapter', Object.getOwnPropertyDescriptor(BenchController.prototype, 'adapter'));
Inject(HttpAdapterHost)(BenchController, undefined, 0);
Controller('jira/bench')(BenchController);

async function main() {
  const config = exampleConfigFromEnv();
  const root = AppModule.register(config);
  // First, as the ACE app registers its bare route before its authenticated one: Express tries its routes
  // in order, so a route registered after all the others pays a path match for each of them.
  await serveExample(config, { ...root, controllers: [BenchController, ...(root.controllers ?? [])] });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
