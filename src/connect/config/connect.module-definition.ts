import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import type { ConnectModuleOptions } from './connect-options.js';
import { checkForgeOptions } from '../forge/forge-options.js';
import { resolveConnectApps } from './resolve-connect-apps.js';

export const {
  ConfigurableModuleClass: ConnectConfigurableModule,
  MODULE_OPTIONS_TOKEN: CONNECT_MODULE_OPTIONS,
  OPTIONS_TYPE: CONNECT_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: CONNECT_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ConnectModuleOptions>({ moduleName: 'Connect' })
  .setClassMethodName('forRoot')
  .setExtras({}, (definition) => ({ ...definition, global: true, ...(definition.providers && { providers: definition.providers.map(checkedOptionsProvider) }) }))
  .build();

/**
 * Makes the options provider check the apps before handing the options out. Everything that uses the
 * options (the database above all) waits for this provider, so a bad configuration fails the bootstrap
 * before anything is opened; Nest does not wait for, nor shut down, sibling providers that were still
 * starting when another one failed, so an engine opened alongside would keep running. The resolved
 * apps are memoised per `apps` array, so the registry reuses them (a descriptor function runs once).
 */
function checkedOptionsProvider(provider: Provider): Provider {
  if (typeof provider !== 'object' || provider === null || provider.provide !== CONNECT_MODULE_OPTIONS) return provider;
  const checked = (options: ConnectModuleOptions): ConnectModuleOptions => {
    resolveConnectApps(options?.apps);
    checkForgeOptions(options);
    return options;
  };
  if ('useValue' in provider) {
    const options = provider.useValue as ConnectModuleOptions;
    return { provide: provider.provide, useFactory: () => checked(options) };
  }
  if ('useFactory' in provider) {
    const { useFactory, inject } = provider;
    return { ...provider, ...(inject && { inject }), useFactory: async (...args: unknown[]) => checked(await useFactory(...args)) };
  }
  return provider;
}
