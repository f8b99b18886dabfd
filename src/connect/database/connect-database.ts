import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { RESOLVED_CONNECT_OPTIONS } from '../config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from '../config/resolved-connect-options.js';
import { connectDataSourceOptions } from './connect-data-source-options.js';
import { EmbeddedPostgres } from './embedded-postgres.js';
import { resolveSecretCipher } from './encryption-keys.js';
import { createEncryptSharedSecretsMigration } from './migrations/encrypt-shared-secrets.js';
import { bindSecretCipher, type SecretCipher } from './secret-cipher.js';

/** The options handed from `typeOrmOptions()` to `createDataSource()` carry their database along. */
const OWNER = Symbol('ConnectDatabase');
type OwnedOptions = TypeOrmModuleOptions & { [OWNER]?: ConnectDatabase };

/**
 * Owns the framework's database behind `@nestjs/typeorm`: the module registers the DataSource under
 * `CONNECT_DATA_SOURCE` through `TypeOrmModule.forRootAsync`, whose options come from `typeOrmOptions()`
 * (which starts the embedded engine when no URL is given) and whose DataSource comes from
 * `createDataSource()` (the cipher bound, migrations run). With the app's own `tenantStore` nothing is
 * opened: the registered DataSource is left uninitialized.
 *
 * Closes both on shutdown, the DataSource before the engine it talks to; when bootstrap fails after the
 * engine started (Nest then runs no shutdown hooks), the engine is stopped here.
 */
@Injectable()
export class ConnectDatabase implements OnApplicationShutdown {
  private readonly logger = new Logger('ConnectDatabase');
  private embedded: EmbeddedPostgres | undefined;
  private source: DataSource | undefined;
  private cipher: SecretCipher | undefined;

  constructor(@Inject(RESOLVED_CONNECT_OPTIONS) private readonly options: ResolvedConnectOptions) {}

  /** `useFactory` of the TypeORM module: the DataSource options, once the database to use is there. */
  async typeOrmOptions(): Promise<TypeOrmModuleOptions> {
    const common = { [OWNER]: this, toRetry: () => false, retryAttempts: 0 };
    if (this.options.tenantStore !== undefined) return { type: 'postgres', manualInitialization: true, ...common };
    const database = this.options.database;
    this.cipher = await resolveSecretCipher(this.options.encryption, { nodeEnv: this.options.nodeEnv, warn: (message) => this.logger.warn(message) });
    let url = database.url;
    if (url === undefined) {
      this.embedded = await EmbeddedPostgres.start(database.embeddedDataDir === undefined ? {} : { dataDir: database.embeddedDataDir });
      url = this.embedded.url;
      this.logger.log(`No database URL given: using the embedded engine (${database.embeddedDataDir ?? 'in memory'}).`);
    }
    const options = connectDataSourceOptions({
      url,
      schema: database.schema,
      poolSize: database.poolSize,
      connectTimeoutMs: database.connectTimeoutMs,
      queryTimeoutMs: database.queryTimeoutMs,
      extraMigrations: [createEncryptSharedSecretsMigration(this.cipher)],
    });
    return { ...options, ...common } as TypeOrmModuleOptions;
  }

  /** `dataSourceFactory` of the TypeORM module: the framework's DataSource, initialized (migrations run). */
  static createDataSource(options?: DataSourceOptions): Promise<DataSource> {
    const owner = (options as OwnedOptions | undefined)?.[OWNER];
    if (owner === undefined) throw new Error('The Connect DataSource options did not come from ConnectDatabase.typeOrmOptions().');
    return owner.open(options as DataSourceOptions);
  }

  private async open(options: DataSourceOptions): Promise<DataSource> {
    const { [OWNER]: _owner, ...dataSourceOptions } = options as OwnedOptions;
    const source = new DataSource(dataSourceOptions as DataSourceOptions);
    if (this.options.tenantStore !== undefined) return source;
    bindSecretCipher(source, this.cipher!);
    try {
      await source.initialize();
    } catch (error) {
      // Nest runs no shutdown hooks when bootstrap fails: stop what this class started.
      await this.embedded?.stop();
      this.embedded = undefined;
      throw error;
    }
    this.source = source;
    return source;
  }

  async onApplicationShutdown(): Promise<void> {
    // The TypeORM module would destroy the DataSource too, but maybe only after this hook: the pool
    // must be closed while the engine still answers.
    if (this.source?.isInitialized) await this.source.destroy();
    await this.embedded?.stop();
  }
}
