import type { DynamicModule } from '@nestjs/common';
import { AppModule } from './app.module.js';
import { exampleConfigFromEnv } from './example-config.js';

/**
 * The example as `atlassian-connect-nest manifest --module dist/example/forge-manifest-app.js` loads it:
 * the settings of `npm start` (the same environment variables), except that, without DATABASE_URL, the
 * embedded engine runs in memory, so writing a manifest never opens the `.data/` files a running
 * `npm start` uses, and the background sync does not start.
 */
export default function forgeManifestApp(env: NodeJS.ProcessEnv = process.env): DynamicModule {
  return AppModule.register({ ...exampleConfigFromEnv(env), embeddedDataDir: env.CONNECT_EMBEDDED_DATA_DIR || 'memory', forgeSyncIntervalMs: 0 });
}
