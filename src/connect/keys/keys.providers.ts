import type { Provider } from '@nestjs/common';
import { RESOLVED_CONNECT_OPTIONS } from '../config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from '../config/resolved-connect-options.js';
import { HttpInstallKeyResolver } from './http-install-key-resolver.js';
import { INSTALL_KEY_RESOLVER, type InstallKeyResolver } from './install-key-resolver.js';

/** Install-key resolution for signed installs: over HTTP from `installKeysUrl`, unless the app gives its own. */
export const keysProviders: Provider[] = [
  {
    provide: INSTALL_KEY_RESOLVER,
    inject: [RESOLVED_CONNECT_OPTIONS],
    useFactory: (options: ResolvedConnectOptions): InstallKeyResolver =>
      options.installKeys.resolver ?? new HttpInstallKeyResolver({ baseUrl: options.installKeys.url, timeoutMs: options.installKeys.timeoutMs }),
  },
];
