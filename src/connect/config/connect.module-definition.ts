import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ConnectModuleOptions } from './connect-options.js';

/**
 * `ConnectModule.forRoot()` / `forRootAsync()` with typed options, global so that `@ConnectAuth()`
 * works in every module of the app. The options given here are raw: `resolveConnectOptions()` checks
 * them and fills in the defaults before anything else is built (see `connect.module.ts`).
 */
export const {
  ConfigurableModuleClass: ConnectConfigurableModule,
  MODULE_OPTIONS_TOKEN: CONNECT_MODULE_OPTIONS,
  OPTIONS_TYPE: CONNECT_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: CONNECT_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ConnectModuleOptions>({ moduleName: 'Connect' })
  .setClassMethodName('forRoot')
  .setExtras({}, (definition) => ({ ...definition, global: true }))
  .build();
