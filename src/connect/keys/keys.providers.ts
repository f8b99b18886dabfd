import type { Provider } from '@nestjs/common';
import { RESOLVED_CONNECT_OPTIONS } from '../config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from '../config/resolved-connect-options.js';
import { INSTALL_KEY_RESOLVER, type InstallKeyResolver } from './install-key-resolver.js';
import { RegionalInstallKeyResolver } from './regional-install-key-resolver.js';

/**
 * Install-key resolution for signed installs: over HTTP, from the `installKeyHosts` rule of the site
 * (or `installKeysUrl` when none matches, or there are none), unless the app gives its own.
 */
export const keysProviders: Provider[] = [
  {
    provide: INSTALL_KEY_RESOLVER,
    inject: [RESOLVED_CONNECT_OPTIONS],
    useFactory: (options: ResolvedConnectOptions): InstallKeyResolver =>
      options.installKeys.resolver ??
      new RegionalInstallKeyResolver({ hosts: options.installKeys.hosts, fallbackUrl: options.installKeys.url, timeoutMs: options.installKeys.timeoutMs }),
  },
];
