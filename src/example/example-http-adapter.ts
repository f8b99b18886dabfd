import { networkInterfaces } from 'node:os';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { tuneHttpAdapter } from 'atlassian-connect-nest';
import type { ExampleHttpAdapter } from './example-config.js';

/**
 * A new adapter of the chosen kind (`HTTP_ADAPTER`); the framework needs no options on either.
 * `tuneHttpAdapter()` spares Express's body parsers on requests without a body (docs/benchmarks.md).
 */
export function createExampleHttpAdapter(kind: ExampleHttpAdapter = 'fastify'): AbstractHttpAdapter {
  return tuneHttpAdapter(kind === 'fastify' ? new FastifyAdapter() : new ExpressAdapter());
}

/**
 * The host to listen on for "every interface", as Express (Node's `server.listen(port)`) does:
 * `::` (which also accepts IPv4) where IPv6 is available, else `0.0.0.0`. Fastify needs it spelled
 * out, since it listens on `localhost` only when given no host.
 */
export function anyInterfaceHost(): string {
  const ipv6 = Object.values(networkInterfaces()).some((addresses) => addresses?.some((address) => address.family === 'IPv6'));
  return ipv6 ? '::' : '0.0.0.0';
}
