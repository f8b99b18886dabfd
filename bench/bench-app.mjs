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
import { Controller, Get } from '@nestjs/common';
import { AppModule } from '../dist/example/app.module.js';
import { exampleConfigFromEnv } from '../dist/example/example-config.js';
import { serveExample } from '../dist/example/serve-example.js';

class BenchController {
  bare() {
    return { clientKey: '00000000-0000-4000-8000-000000000000', accountId: null, productType: 'jira' };
  }
}
Get('bare')(BenchController.prototype, 'bare', Object.getOwnPropertyDescriptor(BenchController.prototype, 'bare'));
Controller('jira/bench')(BenchController);

async function main() {
  const config = exampleConfigFromEnv();
  const root = AppModule.register(config);
  await serveExample(config, { ...root, controllers: [...(root.controllers ?? []), BenchController] });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
