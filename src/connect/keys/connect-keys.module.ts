import { Module } from '@nestjs/common';
import { CONNECT_MODULE_OPTIONS } from '../config/connect.module-definition.js';
import type { ConnectModuleOptions } from '../config/connect-options.js';
import { DEFAULT_INSTALL_KEYS_URL, HttpInstallKeyResolver } from './http-install-key-resolver.js';
import { INSTALL_KEY_RESOLVER, type InstallKeyResolver } from './install-key-resolver.js';

/** Install-key resolution for signed installs: over HTTP from `installKeysUrl`, unless replaced. */
@Module({
  providers: [
    {
      provide: INSTALL_KEY_RESOLVER,
      inject: [CONNECT_MODULE_OPTIONS],
      useFactory: (options: ConnectModuleOptions): InstallKeyResolver =>
        options.installKeyResolver ??
        new HttpInstallKeyResolver({
          baseUrl: options.installKeysUrl ?? DEFAULT_INSTALL_KEYS_URL,
          ...(options.installKeyTimeoutMs !== undefined && { timeoutMs: options.installKeyTimeoutMs }),
        }),
    },
  ],
  exports: [INSTALL_KEY_RESOLVER],
})
export class ConnectKeysModule {}
