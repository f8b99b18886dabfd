import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { discoverMethodHooks, type MethodHook } from '../../discovery/method-hooks.js';
import { reasonOf } from '../../util/error-reason.js';
import { OnNearRateLimit, type ConnectRateLimitEvent } from './on-near-rate-limit.decorator.js';

const logger = new Logger('ConnectClient');

/** The `@OnNearRateLimit()` methods of the application, found at bootstrap. */
@Injectable()
export class RateLimitHooks implements OnApplicationBootstrap {
  private hooks: MethodHook<Record<string, never>, ConnectRateLimitEvent>[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  onApplicationBootstrap(): void {
    this.hooks = discoverMethodHooks<Record<string, never>, ConnectRateLimitEvent>(this.discovery, this.scanner, OnNearRateLimit);
  }

  /** Runs every hook, each on its own: a failure is logged and never reaches the call that noticed the limit. */
  emit(event: ConnectRateLimitEvent): void {
    for (const hook of this.hooks) {
      try {
        Promise.resolve(hook.run(event)).catch((error: unknown) => logger.warn(`@OnNearRateLimit() ${hook.name} failed: ${reasonOf(error)}`));
      } catch (error) {
        logger.warn(`@OnNearRateLimit() ${hook.name} failed: ${reasonOf(error)}`);
      }
    }
  }
}
