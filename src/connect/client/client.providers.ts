import type { Provider } from '@nestjs/common';
import { ConnectClient } from './connect-client.js';
import { RateLimitHooks } from './rate-limit/rate-limit-hooks.js';

/** The outbound client for the products' REST APIs. */
export const clientProviders: Provider[] = [ConnectClient, RateLimitHooks];
