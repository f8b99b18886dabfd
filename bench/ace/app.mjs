// The benchmark's atlassian-connect-express (ACE) app: the counterpart of the example app's Jira routes
// on ACE 11 and Express 4, so `npm run bench` (BENCH_ACE) can measure both side by side. Started by
// bench/app-process.mjs as `node bench/ace/app.mjs`, with the same environment as the example app:
//
//   PORT                 port to listen on (127.0.0.1)
//   DATABASE_URL         PostgreSQL for ACE's sequelize store (default postgres://postgres@127.0.0.1:5432/test)
//   ACE_DB_SCHEMA        schema of ACE's tables (default ace_bench; created when missing), so they never
//                        meet the framework's own tables
//   AC_LOCAL_BASE_URL    the app's base URL (default http://127.0.0.1:$PORT/jira)
//
// Routes, as in bench/bench-app.mjs plus the example app:
//   GET /health            200, no authentication (readiness)
//   GET /jira/bench/bare   the same JSON shape and size as whoami, no authentication
//   GET /jira/api/whoami   behind `addon.authenticate()`: the tenant's clientKey and the caller's account
//
// Production mode only (NODE_ENV=production: no descriptor watching, no registration, no ngrok); no
// request logging, sequelize's SQL logging off (config.json). Tenants are rows of ACE's own store
// (bench/ace/seed.mjs), written the way ACE's install route writes them.
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

async function main() {
  if (process.env.NODE_ENV !== 'production') throw new Error(`NODE_ENV must be "production" (is ${JSON.stringify(process.env.NODE_ENV ?? '')})`);
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`PORT: ${JSON.stringify(process.env.PORT)} is not a port`);
  process.env.PORT = String(port);
  process.env.DATABASE_URL ||= DEFAULT_DATABASE_URL;
  process.env.ACE_DB_SCHEMA ||= 'ace_bench';
  process.env.AC_LOCAL_BASE_URL ||= `http://127.0.0.1:${port}/jira`;
  const schema = process.env.ACE_DB_SCHEMA;
  if (!SCHEMA_PATTERN.test(schema)) throw new Error(`ACE_DB_SCHEMA: ${JSON.stringify(schema)} is not a plain lower-case identifier`);

  // ACE's store creates its tables (sequelize `sync()`) in the first schema of the search path, which
  // config.json sets to ACE_DB_SCHEMA: that schema has to exist first.
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } finally {
    await client.end();
  }

  // Imported only now: express and ACE's logger read NODE_ENV when they load.
  const { default: express } = await import('express');
  const { default: ace } = await import('atlassian-connect-express');
  const app = express();
  // ACE reads config.json and atlassian-connect.json from the working directory (and serves the
  // descriptor under its file name): this one's.
  process.chdir(import.meta.dirname);
  const addon = ace(app);

  // As in ACE's app template: the body parsers (ACE looks for a token in the body, and finds none
  // without them) and ACE's request middleware; no request logging.
  app.use(express.json());
  app.use(express.urlencoded({ extended: false }));
  app.use(addon.middleware());

  app.get('/health', (_req, res) => res.json({ status: 'ok' }));
  app.get('/jira/bench/bare', (_req, res) => res.json({ clientKey: '00000000-0000-4000-8000-000000000000', accountId: null, productType: 'jira' }));
  app.get('/jira/api/whoami', addon.authenticate(), (req, res) => {
    res.json({ clientKey: req.context.clientKey, accountId: req.context.userAccountId ?? null, productType: addon.config.product().id });
  });

  // The store's tables first (ACE syncs them when it is constructed), then listen.
  await Promise.all([addon.settings.connectionPromise, addon.settings.installationMappingPromise, addon.settings.forgeSettingsPromise]);
  const server = app.listen(port, '127.0.0.1');
  await new Promise((done, reject) => server.once('listening', done).once('error', reject));

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close(() => {
      addon.settings.sequelize.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
    server.closeAllConnections?.();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
