import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import type { ConnectModuleOptions } from './connect-options.js';
import { checkForgeOptions } from '../forge/forge-options.js';
import { ConnectOptionalPeers } from './optional-peers.js';
import { resolveConnectApps } from './resolve-connect-apps.js';

export const {
  ConfigurableModuleClass: ConnectConfigurableModule,
  MODULE_OPTIONS_TOKEN: CONNECT_MODULE_OPTIONS,
  OPTIONS_TYPE: CONNECT_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: CONNECT_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ConnectModuleOptions>({ moduleName: 'Connect' })
  .setClassMethodName('forRoot')
  .setExtras({}, (definition) => ({ ...definition, global: true, providers: definition.providers?.map(checkedOptionsProvider) }))
  .build();

/**
 * Makes the options provider check the apps, and load the optional peers the options need (the
 * embedded engine's packages, `@nestjs/schedule`), before handing the options out. Everything that
 * uses the options (the database above all) waits for this provider, so a bad configuration or a
 * missing package fails the bootstrap before anything is opened; Nest does not wait for, nor shut
 * down, sibling providers that were still starting when another one failed, so an engine opened
 * alongside would keep running. The resolved apps are memoised per `apps` array, so the registry
 * reuses them (a descriptor function runs once). `ConnectOptionalPeers` is provided by `ConnectModule`.
 */
function checkedOptionsProvider(provider: Provider): Provider {
  if (typeof provider !== 'object' || provider === null || provider.provide !== CONNECT_MODULE_OPTIONS) return provider;
  const checked = async (options: ConnectModuleOptions, peers: ConnectOptionalPeers): Promise<ConnectModuleOptions> => {
    resolveConnectApps(options?.apps);
    checkForgeOptions(options);
    await peers.check(options);
    return options;
  };
  if ('useValue' in provider) {
    const options = provider.useValue as ConnectModuleOptions;
    return { provide: provider.provide, inject: [ConnectOptionalPeers], useFactory: (peers: ConnectOptionalPeers) => checked(options, peers) };
  }
  if ('useFactory' in provider) {
    const { useFactory, inject = [] } = provider;
    return {
      ...provider,
      inject: [...inject, ConnectOptionalPeers],
      useFactory: async (...args: unknown[]) => {
        const peers = args.pop() as ConnectOptionalPeers;
        return checked(await useFactory(...args), peers);
      },
    };
  }
  return provider;
}
