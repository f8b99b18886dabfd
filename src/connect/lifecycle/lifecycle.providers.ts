import type { Provider } from '@nestjs/common';
import { LifecycleHookRegistry } from './lifecycle-hook-registry.js';
import { LifecycleService } from './lifecycle.service.js';

/** The four lifecycle callbacks and the discovery of `@OnInstalled()`-style hooks. */
export const lifecycleProviders: Provider[] = [LifecycleHookRegistry, LifecycleService];
