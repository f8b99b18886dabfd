import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

/**
 * Lets the HTTP server finish promptly once the app shuts down. Closing the server waits for every
 * connection, and a keep-alive connection whose response is already sent stays open until its idle
 * timeout: 5 s on Express (Node's default), 72 s on Fastify, longer than most orchestrators wait
 * between SIGTERM and SIGKILL. From here on, a connection is closed as soon as its response is sent;
 * requests still in flight are answered completely, as before.
 */
@Injectable()
export class HttpServerShutdown implements BeforeApplicationShutdown {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  beforeApplicationShutdown(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as { keepAliveTimeout?: unknown } | undefined;
    // Node reads keepAliveTimeout when a response finishes; 0 would mean "never time out".
    if (server !== undefined && typeof server.keepAliveTimeout === 'number' && server.keepAliveTimeout > 0) server.keepAliveTimeout = 1;
  }
}
