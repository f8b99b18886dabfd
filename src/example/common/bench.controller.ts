import { Controller, Get } from '@nestjs/common';

/**
 * The benchmark's baseline (`npm run bench`, see bench/): the same app, the same adapter and a response
 * of the same shape and size as `GET /jira/api/whoami`, but no `@ConnectAuth()` guard. The ratio of an
 * authenticated route's throughput to this one's is the price of authentication. It returns constants
 * only: nothing about any tenant.
 */
@Controller('jira/bench')
export class BenchController {
  @Get('bare')
  bare() {
    return { clientKey: '00000000-0000-4000-8000-000000000000', accountId: null, productType: 'jira' };
  }
}
