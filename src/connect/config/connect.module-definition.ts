import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ConnectModuleOptions } from './connect-options.js';

export const {
  ConfigurableModuleClass: ConnectConfigurableModule,
  MODULE_OPTIONS_TOKEN: CONNECT_MODULE_OPTIONS,
  OPTIONS_TYPE: CONNECT_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: CONNECT_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ConnectModuleOptions>({ moduleName: 'Connect' })
  .setClassMethodName('forRoot')
  .setExtras({}, (definition) => ({ ...definition, global: true }))
  .build();
