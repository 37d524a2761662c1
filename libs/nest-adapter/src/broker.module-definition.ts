import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { BrokerModuleOptions } from './broker.options.js';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: BROOK_MODULE_OPTIONS, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<BrokerModuleOptions>({ moduleName: 'Broker' })
    .setClassMethodName('forRoot')
    .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();
