import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CONNECT_MODULE_OPTIONS } from '../config/connect.module-definition.js';
import type { ConnectModuleOptions } from '../config/connect-options.js';
import { connectDataSourceOptions } from '../database/connect-data-source-options.js';
import { EmbeddedPostgres } from '../database/embedded-postgres.js';
import { resolveSecretCipher } from '../database/encryption-keys.js';
import { bindSecretCipher } from '../database/secret-cipher.js';
import { createEncryptSharedSecretsMigration } from './migrations/encrypt-shared-secrets.js';

/** Where the embedded engine keeps its files unless told otherwise. */
export const DEFAULT_EMBEDDED_DATA_DIR = '.data/pglite';

/**
 * Owns the tenant database: connects to `database.url` or starts the embedded engine, runs the
 * migrations, and closes both on shutdown (the data source before the engine it talks to).
 */
@Injectable()
export class ConnectDatabase implements OnApplicationShutdown {
  private readonly logger = new Logger('ConnectDatabase');
  private embedded: EmbeddedPostgres | undefined;
  private source: DataSource | undefined;

  constructor(@Inject(CONNECT_MODULE_OPTIONS) private readonly options: ConnectModuleOptions) {}

  async open(): Promise<DataSource> {
    const database = this.options.database ?? {};
    // Before anything starts: production without a key refuses here.
    const cipher = await resolveSecretCipher(this.options.encryption, {
      nodeEnv: process.env.NODE_ENV,
      warn: (message) => this.logger.warn(message),
    });
    let url = database.url;
    let poolSize = database.poolSize ?? 10;
    if (url === undefined || url === '') {
      const dataDir = database.embeddedDataDir ?? DEFAULT_EMBEDDED_DATA_DIR;
      this.embedded = await EmbeddedPostgres.start(dataDir === 'memory' ? {} : { dataDir });
      url = this.embedded.url;
      // PGlite has a single session: a second pooled connection would share it (see EmbeddedPostgres).
      poolSize = 1;
      this.logger.log(`No database URL given: using the embedded engine (${dataDir === 'memory' ? 'in memory' : dataDir}).`);
    }
    try {
      const source = new DataSource(
        connectDataSourceOptions({
          url,
          schema: database.schema,
          poolSize,
          connectTimeoutMs: database.connectTimeoutMs ?? 2000,
          queryTimeoutMs: database.queryTimeoutMs ?? 5000,
          extraMigrations: [createEncryptSharedSecretsMigration(cipher)],
        }),
      );
      bindSecretCipher(source, cipher);
      await source.initialize();
      this.source = source;
      return source;
    } catch (error) {
      // Nest runs no shutdown hooks when bootstrap fails: stop what this method started.
      await this.embedded?.stop();
      throw error;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.source?.isInitialized) await this.source.destroy();
    await this.embedded?.stop();
  }
}
