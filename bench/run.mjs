// `npm run bench`: autocannon against the real example app plus an unguarded baseline route
// (bench/bench-app.mjs, a child process) with real tenants, on each adapter and tenant count; prints one
// table and writes it to docs/benchmarks.md.
// Settings (environment): see README "Benchmarks" and `settingsFromEnv` below.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import pg from 'pg';

import { compareWithAce } from './ace-compare.mjs';
import { countAceTenants, seedAceTenants } from './ace/seed.mjs';
import { detectAdapter, killAllSync, ROOT, startApp } from './app-process.mjs';
import { describeMachine, formatMachine } from './machine.mjs';
import { evaluateTargets, formatAceTable, formatNumber, formatTable, ROUTES, spliceGenerated, summarize } from './report.mjs';
import { connectLikeQuery, fastAuthorizations, preflight, prefill, retarget, rotatingAuthorizations, runOnce, signedInstallRequest, signedRequests } from './scenarios.mjs';
import { countTenants, dropSchema, JIRA_APP_KEY, openTenantDatabase, seededTenant, seedTenants } from './seed.mjs';

/** The framework's default tenant cache bound (`tenantCache.maxEntries`, src/connect/tenants/connect-tenants.module.ts). */
const TENANT_CACHE_CAP = 10_000;
/** The sweep sends each tenant's token this many times in a row (see `sweep`). */
const SWEEP_REPEATS = 2;
/** Token lifetime: well inside the framework's 3600 s cap (`maxTokenLifetimeSeconds`); tokens are signed per block. */
const TOKEN_LIFETIME_S = 1_800;
/** Highest req/s the "new token per request" scenario is given distinct tokens for (it says so when it ran out). */
const FRESH_RATE_CEILING = 25_000;
/** The whole run may not take longer (a full default run takes about 15 minutes). */
const HARD_LIMIT_MIN = 45;

function list(value, fallback) {
  const items = (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  return items.length > 0 ? items : fallback;
}

function positive(name, value, fallback) {
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new Error(`${name} must be a positive number, not ${JSON.stringify(value)}`);
  return number;
}

export function settingsFromEnv(env = process.env) {
  const tenants = list(env.BENCH_TENANTS, ['1', '10000', '100000']).map((text) => {
    const number = Number(text.replace(/_/g, ''));
    if (!Number.isInteger(number) || number < 1) throw new Error(`BENCH_TENANTS: ${JSON.stringify(text)} is not a tenant count`);
    return number;
  });
  const adapters = list(env.BENCH_ADAPTERS, ['express', 'fastify']);
  for (const adapter of adapters) if (!['express', 'fastify'].includes(adapter)) throw new Error(`BENCH_ADAPTERS: unknown adapter ${adapter}`);
  const ace = { '': false, 0: false, 1: 'also', only: 'only' }[env.BENCH_ACE ?? ''];
  if (ace === undefined) throw new Error(`BENCH_ACE must be 0, 1 or only, not ${JSON.stringify(env.BENCH_ACE)}`);
  if (ace && !env.DATABASE_URL) throw new Error('BENCH_ACE needs DATABASE_URL: ACE keeps its tenants in PostgreSQL (sequelize), so both apps run on that server');
  return {
    /** Seconds measured per scenario. */
    duration: positive('BENCH_DURATION', env.BENCH_DURATION, 10),
    /** The seconds of each GET route are split into this many rounds (see `ratioTo` in report.mjs). */
    rounds: positive('BENCH_ROUNDS', env.BENCH_ROUNDS, 10),
    /** Seconds of warm-up per route before the measurements (0 for none). */
    warmup: env.BENCH_WARMUP === '0' ? 0 : positive('BENCH_WARMUP', env.BENCH_WARMUP, 1),
    connections: positive('BENCH_CONNECTIONS', env.BENCH_CONNECTIONS, 10),
    tenants: [...new Set(tenants)].sort((a, b) => a - b),
    adapters,
    /** Distinct tenants the authenticated routes rotate over (fewer when the table has fewer). */
    pool: positive('BENCH_POOL', env.BENCH_POOL, 1_000),
    /** Distinct tenants of the sweep, a new one every other request (fewer when the table has fewer). */
    sweep: positive('BENCH_SWEEP', env.BENCH_SWEEP, 100_000),
    databaseUrl: env.DATABASE_URL || undefined,
    /** Side by side with atlassian-connect-express (bench/ace/): false, 'also' (after our own scenarios) or 'only'. */
    ace,
    /** Concurrent connections of the comparison with ACE (both apps). */
    aceConnections: positive('BENCH_ACE_CONNECTIONS', env.BENCH_ACE_CONNECTIONS, 50),
    /** Extra node flags for the app, e.g. `--cpu-prof --cpu-prof-dir=prof` to profile it. */
    appNodeArgs: (env.BENCH_APP_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
    output: resolve(ROOT, env.BENCH_OUTPUT || 'docs/benchmarks.md'),
  };
}

async function loadDist() {
  const index = join(ROOT, 'dist/connect/index.js');
  const advanced = join(ROOT, 'dist/connect/advanced.js');
  const testing = join(ROOT, 'dist/connect/testing/index.js');
  if (![index, advanced, testing, join(ROOT, 'dist/example/serve-example.js')].every((file) => existsSync(file))) {
    throw new Error('dist/ is missing: run `npm run bench` (it builds first) or `npm run build`.');
  }
  const load = (file) => import(pathToFileURL(file).href);
  return { connect: { ...(await load(index)), ...(await load(advanced)) }, testing: await load(testing) };
}

function log(message) {
  process.stderr.write(`[bench] ${message}\n`);
}

async function main() {
  const started = Date.now();
  const settings = settingsFromEnv();
  const machine = describeMachine();
  const { connect, testing } = await loadDist();
  const database = settings.databaseUrl ? 'postgres' : 'embedded';
  log(
    `${settings.adapters.join(', ')} × ${database} × ${settings.tenants.join(', ')} tenants; ${settings.duration} s per route in ${settings.rounds} rounds after ${settings.warmup} s warm-up, ${settings.connections} connections`,
  );

  const encryptionKey = randomBytes(32).toString('base64');
  const cipher = connect.SecretCipher.fromKeys([encryptionKey]);
  const runSeed = randomBytes(16).toString('hex');
  const schema = settings.databaseUrl ? `bench_${randomBytes(4).toString('hex')}` : undefined;
  // ACE's tables live in a schema of their own too (bench/ace/app.mjs creates it), dropped afterwards.
  const aceSchema = settings.ace ? `ace_bench_${randomBytes(4).toString('hex')}` : undefined;
  const dropSchemas = () => Promise.all([schema, aceSchema].filter(Boolean).map((name) => dropSchema(settings.databaseUrl, name)));
  const workDir = mkdtempSync(join(tmpdir(), 'connect-bench-'));
  const embeddedDataDir = join(workDir, 'pglite');
  const cleanupSync = () => {
    killAllSync();
    rmSync(workDir, { recursive: true, force: true });
  };
  process.once('exit', cleanupSync);
  // Every step has its own timeout; this is the net under them all.
  const hardLimitMin = HARD_LIMIT_MIN * (settings.ace ? 2 : 1);
  setTimeout(() => {
    log(`still running after ${hardLimitMin} min: giving up`);
    cleanupSync();
    process.exit(1);
  }, hardLimitMin * 60_000).unref();
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      log(`${signal}: stopping`);
      cleanupSync();
      // The PostgreSQL schema needs a round trip: given a few seconds, no more.
      const dropping = dropSchemas().catch(() => undefined);
      const timer = setTimeout(() => process.exit(130), 5_000);
      void dropping.then(() => {
        clearTimeout(timer);
        process.exit(130);
      });
    });
  }

  const host = await testing.FakeConnectHost.start();
  const keyPair = await host.rotateKey(); // the host's signing key, so installs can be signed here too
  const appEnv = (adapter) => ({
    HTTP_ADAPTER: adapter,
    CONNECT_INSTALL_KEYS_URL: host.installKeysUrl,
    CONNECT_ENCRYPTION_KEYS: encryptionKey,
    ...(settings.databaseUrl ? { DATABASE_URL: settings.databaseUrl, CONNECT_DATABASE_SCHEMA: schema } : { CONNECT_EMBEDDED_DATA_DIR: embeddedDataDir }),
  });
  const hostApp = (app) => ({ key: JIRA_APP_KEY, product: 'jira', baseUrl: `${app.url}/jira` });
  const site = host.newSite('jira');
  const rows = [];
  const aceRows = [];
  const aceState = { inTable: 0 };
  let app;
  let aborted;
  try {
    // The app creates the schema (migrations) on its first start; the first tenant is a real install.
    app = await startApp({ env: appEnv(settings.adapters[0]), nodeArgs: settings.appNodeArgs });
    let appAdapter = settings.adapters[0];
    const installed = await host.install(hostApp(app), site);
    if (installed.status !== 204) throw new Error(`The install through the fake host answered ${installed.status}: ${installed.body}`);

    let inTable = 1;
    for (const tenants of settings.tenants) {
      if (tenants > inTable) {
        // The embedded engine's files belong to the app while it runs: seed with the app stopped (on
        // PostgreSQL too, so both engines go through the same steps).
        await app?.stop();
        app = undefined;
        const seedStart = Date.now();
        const db = await openTenantDatabase({ databaseUrl: settings.databaseUrl, embeddedDataDir, connect });
        try {
          await seedTenants(db.client, { schema, runSeed, cipher, from: inTable, to: tenants - 1 });
          inTable = await countTenants(db.client, schema);
        } finally {
          await db.close();
        }
        log(`seeded to ${formatNumber(inTable)} tenants in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);
        if (inTable !== tenants) throw new Error(`expected ${tenants} tenants in the table, found ${inTable}`);
      }
      for (const adapter of settings.adapters) {
        if (settings.ace === 'only') {
          await app?.stop();
          app = undefined;
          aceRows.push(...(await aceBlock({ adapter, tenants: inTable, settings, appEnv, aceSchema, aceState, connect, runSeed, site, database })));
          continue;
        }
        if (app !== undefined && appAdapter !== adapter) {
          await app.stop();
          app = undefined;
        }
        app ??= await startApp({ env: appEnv(adapter), nodeArgs: settings.appNodeArgs });
        appAdapter = adapter;
        try {
          const ranAs = await detectAdapter(app.url);
          if (ranAs !== adapter) log(`asked for ${adapter}, the app runs ${ranAs} (HTTP_ADAPTER not supported by this build?)`);
          const block = { adapter, ranAs, database, tenants: inTable };
          rows.push(...(await runBlock({ app, block, settings, connect, testing, host, keyPair, site, runSeed, hostApp: hostApp(app) })));
          const peak = app.peakRssMb();
          if (peak !== undefined) log(`peak RSS of the app in this block: ${peak.toFixed(0)} MB`);
        } finally {
          // A fresh process per block: each starts with a cold tenant cache and its own RSS.
          await app.stop();
          app = undefined;
        }
        if (settings.ace) aceRows.push(...(await aceBlock({ adapter, tenants: inTable, settings, appEnv, aceSchema, aceState, connect, runSeed, site, database })));
      }
    }
  } catch (error) {
    // Report what was measured before the failure, and fail.
    aborted = error;
    log(`aborted: ${error.stack ?? error}`);
  } finally {
    await app?.stop().catch(() => undefined);
    await host.close().catch(() => undefined);
    await dropSchemas().catch((error) => log(`could not drop the bench's schemas (${[schema, aceSchema].filter(Boolean).join(', ')}): ${error.message}`));
    rmSync(workDir, { recursive: true, force: true });
  }

  const elapsed = (Date.now() - started) / 1000;
  const markdown = renderReport({ rows, aceRows, settings, machine, database, elapsed, aborted });
  process.stdout.write(`\n${markdown}\n`);
  const existing = existsSync(settings.output) ? readFileSync(settings.output, 'utf8') : undefined;
  writeFileSync(settings.output, spliceGenerated(existing, markdown));
  log(`written to ${settings.output} (${elapsed.toFixed(0)} s in all)`);
  if (aborted) throw new Error(`The benchmark was aborted: ${aborted.message}`);
}

/**
 * One block of the comparison with atlassian-connect-express: a fresh ACE app (bench/ace/app.mjs) and a
 * fresh example app on `adapter`, both on the PostgreSQL server at DATABASE_URL, ACE's store holding the
 * same tenants as ours (seeded while ACE runs: it caches nothing). See bench/ace-compare.mjs.
 */
async function aceBlock({ adapter, tenants, settings, appEnv, aceSchema, aceState, connect, runSeed, site, database }) {
  const real = { clientKey: site.clientKey, sharedSecret: site.sharedSecret, index: 0 };
  const tenantAt = (index) => (index === 0 ? real : seededTenant(runSeed, index));
  let ours;
  let ace;
  try {
    // ACE creates its schema and tables when it starts; only then can its store be seeded.
    ace = await startApp({ script: 'bench/ace/app.mjs', env: { DATABASE_URL: settings.databaseUrl, ACE_DB_SCHEMA: aceSchema }, nodeArgs: settings.appNodeArgs });
    if (aceState.inTable < tenants) {
      const client = new pg.Client({ connectionString: settings.databaseUrl });
      await client.connect();
      try {
        await seedAceTenants(client, { schema: aceSchema, tenants: Array.from({ length: tenants - aceState.inTable }, (_, i) => tenantAt(aceState.inTable + i)) });
        aceState.inTable = await countAceTenants(client, aceSchema);
      } finally {
        await client.end();
      }
      if (aceState.inTable !== tenants) throw new Error(`expected ${tenants} tenants in ACE's store, found ${aceState.inTable}`);
    }
    ours = await startApp({ env: appEnv(adapter), nodeArgs: settings.appNodeArgs });
    const ranAs = await detectAdapter(ours.url);
    const pool = Array.from({ length: Math.min(tenants, settings.pool) }, (_, i) => tenantAt(i));
    const block = { adapter, ranAs, database, tenants };
    log(`${adapter}/${database}/${formatNumber(tenants)} vs ACE: ${settings.aceConnections} connections, ${formatNumber(pool.length)} tenant(s) in the pool`);
    return await compareWithAce({ ours, ace, block, settings, connect, pool, tokenLifetimeS: TOKEN_LIFETIME_S, freshRateCeiling: FRESH_RATE_CEILING, log });
  } finally {
    await ours?.stop();
    await ace?.stop();
  }
}

function labelOf(block) {
  return `${block.adapter}/${block.database}/${formatNumber(block.tenants)}`;
}

/** The scenarios of one adapter/database/tenant-count block, on one running app. */
async function runBlock({ app, block, settings, connect, testing, host, keyPair, site, runSeed, hostApp }) {
  const { url } = app;
  const appBaseUrl = hostApp.baseUrl;
  const label = labelOf(block);
  const real = { clientKey: site.clientKey, sharedSecret: site.sharedSecret };
  const poolSize = Math.min(block.tenants, settings.pool);
  const pool = [real, ...Array.from({ length: poolSize - 1 }, (_, i) => seededTenant(runSeed, i + 1))];
  const sign = (path, qsh) => signedRequests(testing, { tenants: pool, path, appBaseUrl, qsh, expiresIn: TOKEN_LIFETIME_S });
  const whoamiRequests = await sign('/jira/api/whoami');
  const queryPath = `/jira/api/whoami?${connectLikeQuery(1024)}`;
  // The GET routes, measured in rounds. The bare route gets the whoami requests, Authorization header
  // and all: same bytes in, same size out.
  // A new token on every request (the tenants of the pool taking turns, each token for another user),
  // enough for the whole measurement at up to FRESH_RATE_CEILING req/s; its baseline is the bare route
  // sent the same way, since autocannon then builds every request anew (which costs the load
  // generator, not the app).
  const freshTokens = fastAuthorizations(connect, {
    tenants: pool,
    path: '/jira/api/whoami',
    appBaseUrl,
    expiresIn: TOKEN_LIFETIME_S,
    count: Math.ceil(FRESH_RATE_CEILING * (settings.warmup + settings.duration)),
  });
  const fresh = rotatingAuthorizations('/jira/api/whoami', freshTokens);
  const scenarios = [
    { route: ROUTES.bare, requests: retarget(whoamiRequests, '/jira/bench/bare'), expected: 200 },
    { route: ROUTES.bareBuilt, requests: rotatingAuthorizations('/jira/bench/bare', freshTokens).requests, expected: 200 },
    { route: ROUTES.fresh, requests: fresh.requests, expected: 200, clientKey: true, exhausted: () => fresh.wrapped },
    // What the adapter alone pays for the 1 KB query string (parsing it), without authentication.
    { route: ROUTES.bareQuery1k, requests: retarget(whoamiRequests, `/jira/bench/bare?${connectLikeQuery(1024)}`), expected: 200 },
    { route: ROUTES.whoami, requests: whoamiRequests, expected: 200, clientKey: true },
    { route: ROUTES.context, requests: await sign('/jira/api/context/whoami', 'context'), expected: 200, clientKey: true },
    { route: ROUTES.query1k, requests: await sign(queryPath), expected: 200, clientKey: true },
  ];
  const install = {
    route: ROUTES.install,
    requests: [await signedInstallRequest(connect, { host, keyPair, app: hostApp, site, expiresIn: 600 })],
    expected: 204,
  };
  const fillStart = Date.now();
  await prefill(url, whoamiRequests, settings.connections);
  log(`${label}: ${formatNumber(pool.length)} tenant(s) of the pool cached in ${((Date.now() - fillStart) / 1000).toFixed(1)} s`);
  const rows = [];
  const record = (route, outcome, extra = {}) => {
    const row = { ...block, route, rssMb: app.rssMb(), ...outcome, ...extra };
    rows.push(row);
    log(`${label} ${route}: ${formatNumber(row.rps)} req/s, p99 ${formatNumber(row.p99, 2)} ms, errors ${row.errors}, RSS ${formatNumber(row.rssMb)} MB`);
  };
  const failed = (error) => ({ rps: NaN, p50: NaN, p99: NaN, errors: 1, note: `failed: ${error.message.split('\n')[0].slice(0, 120)}` });
  const run = (scenario, options) =>
    runOnce({ url, requests: scenario.requests, connections: settings.connections, expectedStatus: scenario.expected, appCpuMs: app.cpuMs, ...options });

  // Check and warm up each route; a route that fails here is reported as failed and left out.
  const live = [];
  for (const scenario of [...scenarios, install]) {
    try {
      const first = scenario.requests[0];
      await preflight(url, first.setupRequest ? first.setupRequest({ ...first }) : first, scenario.expected, (text) => {
        if (scenario.clientKey && JSON.parse(text).clientKey !== pool[0].clientKey) throw new Error(`wrong tenant in ${text}`);
      });
      // Warm-up errors count too: they are answers the route got wrong.
      scenario.warmupErrors = settings.warmup > 0 ? (await run(scenario, { duration: settings.warmup })).errors : 0;
      live.push(scenario);
    } catch (error) {
      record(scenario.route, failed(error));
    }
  }
  // Rounds: every GET route once per round, back to back, starting with another route each round.
  const measured = live.filter((scenario) => scenario !== install);
  const rounds = Math.max(1, Math.round(settings.rounds));
  const slice = settings.duration / rounds;
  const parts = new Map(measured.map((scenario) => [scenario, []]));
  const rss = new Map();
  try {
    for (let round = 0; round < rounds; round += 1) {
      for (let i = 0; i < measured.length; i += 1) {
        const scenario = measured[(i + round) % measured.length];
        parts.get(scenario).push(await run(scenario, { duration: slice }));
        rss.set(scenario, app.rssMb());
      }
    }
    for (const scenario of measured) {
      const outcome = summarize(parts.get(scenario));
      outcome.errors += scenario.warmupErrors;
      const note = scenario.exhausted?.() ? { note: `ran out of new tokens: some were sent twice, raise FRESH_RATE_CEILING` } : {};
      record(scenario.route, outcome, { rssMb: rss.get(scenario), ...note });
    }
  } catch (error) {
    for (const scenario of measured) record(scenario.route, failed(error));
  }
  if (live.includes(install)) {
    try {
      const outcome = summarize([await run(install, { duration: settings.duration })]);
      outcome.errors += install.warmupErrors;
      record(install.route, outcome);
    } catch (error) {
      record(install.route, failed(error));
    }
  }
  await sweep({ app, block, settings, connect, runSeed, real, appBaseUrl, record, url });
  const order = Object.values(ROUTES);
  return rows.sort((a, b) => order.indexOf(a.route) - order.indexOf(b.route));
}

/**
 * Past the caches: every tenant one not asked for before (up to `settings.sweep` distinct ones), its
 * token sent twice in a row. The first request is a tenant cache miss (database lookup and
 * decryption), the second verifies again and is stored in the verified-request cache (on its second
 * sight). Both caches must drop old entries to stay at their caps; the app's memory after each chunk
 * shows whether they do.
 */
async function sweep({ app, block, settings, connect, runSeed, real, appBaseUrl, record, url }) {
  const distinct = Math.min(block.tenants, settings.sweep);
  const tenants = [real, ...Array.from({ length: distinct - 1 }, (_, i) => seededTenant(runSeed, i + 1))];
  // Different tenants than the ones the pool warmed up first: start after the pool, wrap around.
  const offset = Math.min(settings.pool, distinct) % distinct;
  const ordered = [...tenants.slice(offset), ...tenants.slice(0, offset)];
  const path = '/jira/api/whoami';
  const authorizations = fastAuthorizations(connect, { tenants: ordered, path, appBaseUrl, expiresIn: TOKEN_LIFETIME_S });
  const amount = Math.max(distinct, settings.connections * 100) * SWEEP_REPEATS;
  // The first tenant is checked by the preflight (and then cached): the sweep starts with the second.
  const rotating = rotatingAuthorizations(path, authorizations, distinct > 1 ? SWEEP_REPEATS : 0, SWEEP_REPEATS).requests;
  try {
    await preflight(url, { method: 'GET', path, headers: { authorization: authorizations[0] } }, 200, (text) => {
      if (JSON.parse(text).clientKey !== ordered[0].clientKey) throw new Error(`wrong tenant in ${text}`);
    });
    // In chunks of the cache's cap, with the app's RSS after each: a bounded cache levels off.
    const parts = [];
    const rssTrail = [];
    const liveTrail = [];
    const perChunk = TENANT_CACHE_CAP * SWEEP_REPEATS;
    for (let done = 0; done < amount; done += perChunk) {
      const chunk = Math.min(perChunk, amount - done);
      parts.push(await runOnce({ url, requests: rotating, connections: settings.connections, amount: chunk, expectedStatus: 200, timeoutMs: 300_000, appCpuMs: app.cpuMs }));
      rssTrail.push(app.rssMb());
      // Then what is still live after a full garbage collection (the heap probe): the bound itself.
      liveTrail.push(await app.liveMemory());
    }
    const outcome = summarize(parts);
    // Throughput over the whole sweep (its chunks differ in size).
    outcome.rps = outcome.total / parts.reduce((sum, part) => sum + part.seconds, 0);
    const trail = rssTrail.length > 1 ? `; RSS after each ${formatNumber(TENANT_CACHE_CAP)}: ${rssTrail.map((mb) => formatNumber(mb)).join(' → ')} MB` : '';
    log(
      `${labelOf(block)} sweep, live after GC: ${liveTrail.map((live) => (live ? `${formatNumber(live.heapMb)}+${formatNumber(live.externalMb)}/${formatNumber(live.rssMb)}` : '?')).join(' → ')} MB (heap+external/RSS)`,
    );
    record(ROUTES.sweep, outcome, { sweptTenants: distinct, rssTrail, liveTrail, note: `${formatNumber(distinct)} distinct${trail}` });
  } catch (error) {
    record(ROUTES.sweep, { rps: NaN, p50: NaN, p99: NaN, errors: 1, note: `failed: ${error.message.split('\n')[0].slice(0, 120)}` });
  }
}

/** The section of the comparison with atlassian-connect-express (none when it did not run). */
function renderAceSection({ aceRows, settings }) {
  if (!settings.ace) return [];
  const rounds = Math.max(1, Math.round(settings.rounds));
  return [
    '### Against atlassian-connect-express',
    '',
    aceRows.length > 0 ? formatAceTable(aceRows) : '_Not measured (the run stopped before)._',
    '',
    `- **ACE**: atlassian-connect-express 11.5.3 on Express 4 (bench/ace/app.mjs), production mode, its sequelize store on the same PostgreSQL server (schema of its own, pool of 10 connections like ours), holding the same tenants; its whoami route is behind \`addon.authenticate()\`, which reads the tenant from the store on every request and answers with a new session token (\`X-acpt\`). **ours** is the example app of the same block (bench/bench-app.mjs, the adapter in the first column).`,
    `- **Scenarios**, the same requests to both: **bare (no auth)**: \`GET /jira/bench/bare\` (no authentication, same JSON as whoami) with the token of the next row in its Authorization header; **one token reused**: \`GET /jira/api/whoami\`, every request with the same token (the first tenant); **new token each request**: whoami, no token sent twice (the pool's ${formatNumber(settings.pool)} tenants, or all when fewer, taking turns, each token for another user), generated before the run and handed out round-robin.`,
    `- **Rounds**: ${settings.aceConnections} connections; after ${settings.warmup} s of warm-up per scenario and app, ${rounds} rounds of ${formatNumber(settings.duration / rounds, 1)} s, each round running every scenario on both apps back to back (which app first alternating). Each app is a child process of its own, and only one runs at a time: the other is frozen (SIGSTOP) while one is measured. **ours ÷ ACE** is the median over the rounds of our req/s divided by ACE's req/s of the same round.`,
    '',
  ];
}

function renderReport({ rows, aceRows = [], settings, machine, database, elapsed, aborted }) {
  const { lines: targets, allMet } = evaluateTargets(rows, { cacheCap: TENANT_CACHE_CAP });
  const adapterMismatch = rows.some((row) => row.ranAs && row.ranAs !== row.adapter);
  const ours =
    settings.ace === 'only'
      ? ['Only the comparison with atlassian-connect-express ran (`BENCH_ACE=only`).', '']
      : [
          formatTable(rows),
          '',
          adapterMismatch ? '¹ The app answered with another adapter than asked for (HTTP_ADAPTER not supported by this build): those rows measure the adapter it ran.\n' : '',
          '### Targets',
          '',
          ...targets,
          '',
          allMet ? 'All targets met.' : 'Not every target is met or checked (see above).',
          '',
        ];
  return [
    `## Results`,
    '',
    `Run of ${machine.date}: ${settings.adapters.join(' and ')} on the ${database === 'embedded' ? 'embedded engine (PGlite)' : 'PostgreSQL server at DATABASE_URL'}, ` +
      `${settings.tenants.map((count) => formatNumber(count)).join(' / ')} tenant${settings.tenants.join() === '1' ? '' : 's'}; ${settings.duration} s measured per route (${Math.max(1, Math.round(settings.rounds))} rounds) after ${settings.warmup} s warm-up, ` +
      `${settings.connections} connections; ${formatNumber(elapsed / 60, 1)} min in all.`,
    '',
    ...(aborted ? [`**Aborted** (only what was measured before is below): ${aborted.message.split('\n')[0]}`, ''] : []),
    ...ours,
    ...renderAceSection({ aceRows, settings }),
    '### Machine',
    '',
    formatMachine(machine, os.loadavg()),
    '- App and load generator on the same machine: `node bench/bench-app.mjs` (the built example app plus the bare route) as a child process, autocannon in the bench process.',
    '',
    '### What is measured',
    '',
    `- **bare (no guard)**: \`GET /jira/bench/bare\` in the same app (added by bench/bench-app.mjs), same response shape and size as whoami, sent the very same requests (Authorization header included).`,
    `- **Rounds**: after ${settings.warmup} s of warm-up per route, the GET routes are measured in ${Math.max(1, Math.round(settings.rounds))} rounds of ${formatNumber(settings.duration / Math.max(1, Math.round(settings.rounds)), 1)} s each (every route once per round, back to back, the order rotating). req/s is the median over the rounds; the **ratio to bare** is the median over the rounds of the route's req/s divided by the bare route's req/s *of the same round*, so load from elsewhere on a shared machine largely cancels out. The spread of the bare route's rounds is given as the noise of the block. p50/p99 are over every response of all rounds (exact times, not autocannon's whole-millisecond histogram).`,
    `- **@ConnectAuth()**: \`GET /jira/api/whoami\` with an HS256 token whose qsh is bound to the request; requests rotate over ${formatNumber(settings.pool)} distinct tenants (all of them when fewer), so the tenant cache serves many entries. Each connection sends the same tokens over and over, as a front end reuses its token until it nears expiry: after its first use a token's request is recalled from the verified-request cache (\`verifiedRequestCache\`), with no decoding or hashing.`,
    `- **@ConnectAuth(), new token each request**: whoami where no request repeats an earlier token (the pool's tenants take turns, every token for another user, \`sub\`), so nothing can be recalled from the verified-request cache and each token is decoded, its HMAC and qsh computed: what a route costs when every caller brings a new token. autocannon builds each of these requests anew (\`setupRequest\`), which costs the load generator, so its ratio is to **bare, request built each time**: the bare route sent the same tokens the same way.`,
    `- **context qsh**: \`GET /jira/api/context/whoami\` with context tokens (\`qsh: "context-qsh"\`), same tenants.`,
    `- **+ 1 KB query**: whoami with a 1,024-character Jira-like query string; the qsh is computed over it. **bare + 1 KB query** sends the same query string to the bare route: what the adapter alone spends on it (parsing the query), so the part that is authentication is the difference between the two rows.`,
    `- **signed install (RS256)**: re-installs of the tenant installed through the fake host (\`POST /jira/installed\`, 204 expected), the install key cached after the first fetch; each one is a database write (and a log line of the example app). Measured in one ${settings.duration} s run; its ratio to the bare GET is given for completeness only.`,
    `- **sweep**: whoami for a tenant not asked for before, its token sent twice in a row (up to ${formatNumber(settings.sweep)} distinct tenants, ${formatNumber(settings.sweep / TENANT_CACHE_CAP, 0)} × the cap of ${formatNumber(TENANT_CACHE_CAP)} of the tenant cache and of the verified-request cache). The first request of each pair is a tenant cache miss (database lookup and decryption); the second verifies again and is stored in the verified-request cache, so both caches keep evicting. It runs in chunks of ${formatNumber(TENANT_CACHE_CAP)} tenants; after each, the app's RSS is read, then the heap probe (bench/heap-probe.mjs, loaded into the app with \`--expose-gc --import\`) runs a full garbage collection and reports RSS and the live heap (V8 heap + external memory) right after it. Memory is bounded when what survives a collection stops growing; RSS as the app runs also counts heap V8 has grown into ahead of need. With fewer tenants than the pool, the sweep's tenants are all cached already. Its load generator builds every request anew, so its req/s is not compared with bare.`,
    "- Tenants: the first is a real signed install through the fake host; the others are real rows seeded while the app is stopped (batches of 5,000 rows, one `INSERT … SELECT FROM unnest(…)` each), their shared secrets AES-256-GCM-encrypted with the app's key (CONNECT_ENCRYPTION_KEYS). Each block runs on a freshly started app (cold tenant cache); the pool's tenants are requested once before measuring.",
    '- Every response must be the expected status (200, or 204 for installs); anything else, connection errors and timeouts count as errors (warm-up included), and such a row is flagged ⚠ and fails its target.',
    "- App RSS: VmRSS of the app process after the route's last round (after the run, for installs and the sweep).",
    '- App CPU µs/req: CPU time (user + system, /proc/<pid>/stat) the app process used during the measurements divided by the requests answered. It depends less than req/s on what else runs on the machine (not entirely: contention costs cache misses and context switches), so the bare/auth CPU ratio given with the targets is a second estimate of what authentication costs: the throughput ratio the app would reach if it alone were CPU-bound.',
    '',
    '### Reproduce',
    '',
    '```sh',
    'npm install',
    'npm run bench                                   # both adapters, 1 / 10,000 / 100,000 tenants, embedded engine',
    'DATABASE_URL=postgres://… npm run bench         # the same on PostgreSQL (own schema, dropped afterwards)',
    'BENCH_DURATION=1 BENCH_TENANTS=1 BENCH_ADAPTERS=express npm run bench   # quick smoke',
    'DATABASE_URL=postgres://… BENCH_ACE=1 npm run bench      # and side by side with atlassian-connect-express',
    'DATABASE_URL=postgres://… BENCH_ACE=only BENCH_TENANTS=1 npm run bench   # only the comparison with ACE',
    '```',
  ].join('\n');
}

const invokedDirectly = process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename);
if (invokedDirectly) {
  // Exit explicitly either way: nothing left running may keep the process (and a CI job) alive.
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
