import 'reflect-metadata';
import { exampleConfigFromEnv } from './example-config.js';
import { serveExample } from './serve-example.js';

async function main(): Promise<void> {
  await serveExample(exampleConfigFromEnv());
}

main().catch((error: unknown) => {
  // eslint-disable-next-line no-console -- start-up failed before Nest's logger exists
  console.error(error);
  process.exit(1);
});
