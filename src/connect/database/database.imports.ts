import type { DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CONNECT_DATA_SOURCE } from './connect-data-source.constants.js';
import { ConnectDatabase } from './connect-database.js';

/**
 * The framework's DataSource, registered through `@nestjs/typeorm` under `CONNECT_DATA_SOURCE` (a named
 * data source beside the app's own default one): `@InjectConnectDataSource()` gives it. Its options
 * come from `ConnectDatabase`, which owns the embedded engine when there is no URL.
 */
export function connectDatabaseModule(): DynamicModule {
  return TypeOrmModule.forRootAsync({
    name: CONNECT_DATA_SOURCE,
    extraProviders: [ConnectDatabase],
    inject: [ConnectDatabase],
    useFactory: (database: ConnectDatabase) => database.typeOrmOptions(),
    dataSourceFactory: (options) => ConnectDatabase.createDataSource(options),
  });
}
