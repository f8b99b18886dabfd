// Side by side with atlassian-connect-express (ACE): the example app (bench/bench-app.mjs, Express or
// Fastify) and the ACE app (bench/ace/app.mjs, Express 4), each in its own child process, sent the same
// requests by the same load generator. Only one of them runs at a time: the other is frozen (SIGSTOP)
// while one is measured. In every round each scenario runs on both apps back to back, which goes first
// alternating, so the ratio of the two req/s of a round compares the apps under the same conditions;
// the report gives the median of those paired ratios (report.mjs, `aceComparison`).
import { ACE_ROUTES, summarize } from './report.mjs';
import { fastAuthorizations, preflight, prefill, rotatingAuthorizations, runOnce } from './scenarios.mjs';

/** Both apps serve their Jira routes under this base path (the example's Jira app, ACE's `localBaseUrl`). */
const BASE_PATH = '/jira';
const WHOAMI = `${BASE_PATH}/api/whoami`;
const BARE = `${BASE_PATH}/bench/bare`;

/**
 * The comparison of one block: `ours` and `ace` are running apps (bench/app-process.mjs) whose stores
 * both hold `pool` (the real install first). Returns rows `{ app: 'ours' | 'ace', adapter, database,
 * tenants, route, rps, rounds, p50, p99, errors, cpuUs, rssMb }`.
 */
export async function compareWithAce({ ours, ace, block, settings, connect, pool, tokenLifetimeS, freshRateCeiling, log }) {
  const apps = [
    { name: 'ours', app: ours },
    { name: 'ace', app: ace },
  ];
  const connections = settings.aceConnections;
  // The qsh covers the method, the path below the app's base URL and the query, not the host: the same
  // token bytes are valid on both apps.
  const appBaseUrl = `${ours.url}${BASE_PATH}`;
  const perTenant = fastAuthorizations(connect, { tenants: pool, path: WHOAMI, appBaseUrl, expiresIn: tokenLifetimeS });
  const one = perTenant[0];
  const fresh = fastAuthorizations(connect, {
    tenants: pool,
    path: WHOAMI,
    appBaseUrl,
    expiresIn: tokenLifetimeS,
    count: Math.ceil(freshRateCeiling * (settings.warmup + settings.duration)),
  });
  // Each app walks the list of new tokens from the start on its own: neither sees a token twice.
  const scenariosOf = () => {
    const rotating = rotatingAuthorizations(WHOAMI, fresh);
    return [
      { route: ACE_ROUTES.bare, requests: [{ method: 'GET', path: BARE, headers: { authorization: one } }] },
      { route: ACE_ROUTES.reused, requests: [{ method: 'GET', path: WHOAMI, headers: { authorization: one } }], clientKey: true },
      { route: ACE_ROUTES.fresh, requests: rotating.requests, clientKey: true, exhausted: () => rotating.wrapped },
    ];
  };
  for (const side of apps) side.scenarios = scenariosOf();

  // Only `side` runs while it is measured; the other app is frozen meanwhile.
  const alone = async (side, work) => {
    const others = apps.filter((other) => other !== side);
    for (const other of others) other.app.pause();
    try {
      return await work();
    } finally {
      for (const other of others) other.app.resume();
    }
  };
  const run = (side, scenario, duration) =>
    alone(side, () => runOnce({ url: side.app.url, requests: scenario.requests, connections, duration, expectedStatus: 200, appCpuMs: side.app.cpuMs }));

  // Check every scenario on both apps, put every tenant of the pool through each app once (the
  // example app caches tenants; ACE reads its store on every request either way), then warm up.
  for (const side of apps) {
    for (const scenario of side.scenarios) {
      const first = scenario.requests[0];
      await preflight(side.app.url, first.setupRequest ? first.setupRequest({ ...first }) : first, 200, (text) => {
        if (scenario.clientKey && JSON.parse(text).clientKey !== pool[0].clientKey) throw new Error(`${side.name}: wrong tenant in ${text}`);
      });
    }
    await alone(side, () =>
      prefill(
        side.app.url,
        perTenant.map((authorization) => ({ method: 'GET', path: WHOAMI, headers: { authorization } })),
        connections,
      ),
    );
    for (const scenario of side.scenarios) scenario.parts = [];
    for (const scenario of side.scenarios) scenario.warmupErrors = settings.warmup > 0 ? (await run(side, scenario, settings.warmup)).errors : 0;
  }

  const rounds = Math.max(1, Math.round(settings.rounds));
  const slice = settings.duration / rounds;
  const count = apps[0].scenarios.length;
  for (let round = 0; round < rounds; round += 1) {
    for (let i = 0; i < count; i += 1) {
      const index = (i + round) % count;
      const order = (round + i) % 2 === 0 ? apps : [...apps].reverse();
      for (const side of order) {
        const scenario = side.scenarios[index];
        scenario.parts.push(await run(side, scenario, slice));
        scenario.rssMb = side.app.rssMb();
      }
    }
  }
  const rows = [];
  for (const side of apps) {
    for (const scenario of side.scenarios) {
      const outcome = summarize(scenario.parts);
      outcome.errors += scenario.warmupErrors;
      const note = scenario.exhausted?.() ? { note: 'ran out of new tokens: some were sent twice' } : {};
      const row = { app: side.name, ...block, route: scenario.route, rssMb: scenario.rssMb, ...outcome, ...note };
      rows.push(row);
      log?.(`${block.adapter}/${block.database}/${block.tenants} vs ACE, ${side.name} ${scenario.route}: ${Math.round(row.rps)} req/s, errors ${row.errors}`);
    }
  }
  return rows;
}
