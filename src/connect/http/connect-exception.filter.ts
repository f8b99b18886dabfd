import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ConnectError } from '../errors/connect-error.js';
import { sendConnectError } from './send-connect-error.js';

/** Answers every `ConnectError` that reaches Nest (from the guard or a handler) with its typed response. */
@Catch(ConnectError)
export class ConnectExceptionFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: ConnectError, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw error;
    sendConnectError(this.adapterHost.httpAdapter, host.switchToHttp().getResponse(), error);
  }
}
