import { Logger } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { ConnectError } from '../errors/connect-error.js';
import { toErrorResponse } from '../errors/connect-error-http.js';

const logger = new Logger('ConnectHttp');

/**
 * Answers a failed request: a `ConnectError` becomes its typed status and JSON body; anything else is
 * a bug, logged with its stack and answered with a generic 500 that reveals nothing.
 */
export function sendConnectError(adapter: AbstractHttpAdapter, response: unknown, error: unknown, realm?: string): void {
  if (!(error instanceof ConnectError)) {
    logger.error('Unexpected error while handling a Connect request.', error instanceof Error ? error.stack : String(error));
    adapter.setHeader(response, 'cache-control', 'no-store');
    adapter.reply(response, { type: 'internal', message: 'The app failed to handle this request.' }, 500);
    return;
  }
  const { status, headers, body } = toErrorResponse(error, realm ?? error.realm);
  if (status >= 500) logger.warn(`${error.code}: ${error.message}`);
  else logger.debug(`${error.code}: ${error.message}`);
  for (const [name, value] of Object.entries(headers)) adapter.setHeader(response, name, value);
  adapter.reply(response, body, status);
}
