import type { Provider } from '@nestjs/common';
import { ConnectClient } from './connect-client.js';

/** The outbound client for the products' REST APIs. */
export const clientProviders: Provider[] = [ConnectClient];
