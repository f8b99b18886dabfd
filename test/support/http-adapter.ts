import type { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { NestFactory, type AbstractHttpAdapter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

/** The Nest HTTP adapters the framework supports (the example app's `HTTP_ADAPTER` takes the same names). */
export const TEST_HTTP_ADAPTERS = ['express', 'fastify'] as const;
export type TestHttpAdapter = (typeof TEST_HTTP_ADAPTERS)[number];

/**
 * The adapter the e2e suite runs on: `CONNECT_TEST_ADAPTER=fastify`, or express when unset. A wrong
 * value fails loudly rather than silently testing Express.
 */
export function testAdapterName(): TestHttpAdapter {
  const value = (process.env.CONNECT_TEST_ADAPTER || 'express').trim().toLowerCase();
  if (!(TEST_HTTP_ADAPTERS as readonly string[]).includes(value)) {
    throw new Error(`CONNECT_TEST_ADAPTER must be ${TEST_HTTP_ADAPTERS.join(' or ')}, not ${JSON.stringify(process.env.CONNECT_TEST_ADAPTER)}.`);
  }
  return value as TestHttpAdapter;
}

/** A new adapter (no options: the framework needs none): the one named (or the suite's), or the adapter instance given as is. */
export function testHttpAdapter(adapter: TestHttpAdapter | AbstractHttpAdapter = testAdapterName()): AbstractHttpAdapter {
  if (typeof adapter !== 'string') return adapter;
  return adapter === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
}

/** `NestFactory.create` on the suite's adapter (or the one given). */
export function createTestApp(
  module: Parameters<typeof NestFactory.create>[0],
  options: NestApplicationOptions = {},
  adapter?: TestHttpAdapter | AbstractHttpAdapter,
): Promise<INestApplication> {
  return NestFactory.create(module, testHttpAdapter(adapter), options);
}

/** The adapter an app runs on, for the few assertions where Express and Fastify rightly differ. */
export function adapterOf(app: INestApplication): TestHttpAdapter {
  return app.getHttpAdapter().getType() === 'fastify' ? 'fastify' : 'express';
}
