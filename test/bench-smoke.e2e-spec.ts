import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import pg from 'pg';

/**
 * Keeps `npm run bench` honest without putting load on the machine: the report arithmetic (ratios,
 * flags, targets, the markers that keep a hand-written analysis) on made-up rows, and one very short
 * run of the real benchmark (1 s per scenario, one tenant, Express) checking that it measures numbers
 * and that every request was answered as expected. Throughput targets are checked by the benchmark,
 * never here.
 */

const ROOT = resolve(process.cwd());

// bench/ is plain ESM JavaScript (run by node without a build): imported at run time, untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Report = any;
let report: Report;

beforeAll(async () => {
  report = await import(pathToFileURL(join(ROOT, 'bench/report.mjs')).href);
});

function row(overrides: Record<string, unknown>) {
  return { adapter: 'express', ranAs: 'express', database: 'embedded', tenants: 1, p50: 1, p99: 2, errors: 0, rssMb: 100, ...overrides };
}

describe('bench report', () => {
  it('divides each route by the bare route of its own block, round by round', () => {
    const { ROUTES, withRatios } = report;
    const rows = [
      row({ route: ROUTES.bare, rps: 1000, rounds: [1000, 2000, 500] }),
      // Round for round 90 %, 45 % and 180 % of bare: the median of the paired ratios is 90 %, whatever
      // the medians of the rows' own req/s would say.
      row({ route: ROUTES.whoami, rps: 900, rounds: [900, 900, 900] }),
      row({ route: ROUTES.bare, rps: 500, adapter: 'fastify', ranAs: 'fastify' }),
      row({ route: ROUTES.whoami, rps: 400, adapter: 'fastify', ranAs: 'fastify' }),
      row({ route: ROUTES.sweep, rps: 100 }),
    ];
    const rated = withRatios(rows);
    expect(rated[0].ratio).toBeUndefined();
    expect(rated[1].ratio).toBeCloseTo(0.9);
    expect(rated[3].ratio).toBeCloseTo(0.8);
    expect(rated[4].ratio).toBeUndefined();
  });

  it('divides the new-token route by the bare route sent the same way (built per request), not by the plain bare route', () => {
    const { ROUTES, withRatios, evaluateTargets } = report;
    const rows = [
      row({ route: ROUTES.bare, rps: 1000, rounds: [1000, 1000, 1000] }),
      row({ route: ROUTES.whoami, rps: 950, rounds: [950, 950, 950] }),
      row({ route: ROUTES.bareBuilt, rps: 800, rounds: [800, 800, 800], cpuUs: 40 }),
      row({ route: ROUTES.fresh, rps: 400, rounds: [400, 400, 400], cpuUs: 80 }),
    ];
    const rated = withRatios(rows);
    expect(rated[2].ratio).toBeCloseTo(0.8);
    expect(rated[3].ratio).toBeCloseTo(0.5);
    const { lines } = evaluateTargets(rows);
    expect(lines.join('\n')).toContain(
      'a new token on every request (each verified in full): 50.0 % of the bare route sent the same way; by app CPU per request 40 vs 80 µs = 50.0 %',
    );
  });

  it('pools the paired rounds of every block of an adapter, for reference next to the per-block verdicts', () => {
    const { ROUTES, evaluateTargets } = report;
    const block = (tenants: number, whoami: number[]) => [
      row({ route: ROUTES.bare, rps: 1000, rounds: [1000, 1000, 1000, 1000], tenants }),
      row({ route: ROUTES.whoami, rps: 900, rounds: whoami, tenants }),
    ];
    // Per block 80 % and 95 % (medians); the eight rounds together: 60, 70, 80, 90 | 90, 95, 95, 100.
    const { lines } = evaluateTargets([...block(1, [600, 700, 900, 1000]), ...block(100_000, [800, 950, 900, 950])]);
    const text = lines.join('\n');
    expect(text).toMatch(/1 tenant: @ConnectAuth\(\) at 80\.0 % of bare ≥ 90 %: \*\*not met\*\*/);
    expect(text).toMatch(/100,000 tenants: @ConnectAuth\(\) at 92\.5 % of bare ≥ 90 %: \*\*met\*\*/);
    expect(text).toContain('all 8 paired rounds of these blocks together: median 90.0 % of bare (middle half of the rounds 80.0 % to 95.0 %)');
    // A block with errors adds no rounds.
    const dirty = evaluateTargets([...block(1, [600, 700, 900, 1000]), ...block(100_000, [800, 950, 900, 950]).map((r) => ({ ...r, errors: 1 }))]);
    expect(dirty.lines.join('\n')).toContain('all 4 paired rounds of these blocks together: median 80.0 % of bare');
  });

  it('summarizes rounds: median req/s, exact percentiles, errors summed', () => {
    const { summarize, percentile } = report;
    const part = (total: number, seconds: number, latencies: number[], errors = 0) => ({ total, seconds, latencies, errors });
    const outcome = summarize([part(100, 1, [1, 2, 3]), part(300, 1, [4, 5], 2), part(400, 2, [6, 7, 8, 9, 10])]);
    expect(outcome.rounds).toEqual([100, 300, 200]);
    expect(outcome.rps).toBe(200);
    expect(outcome.p50).toBe(5);
    expect(outcome.p99).toBe(10);
    expect(outcome.errors).toBe(2);
    expect(percentile([0.25, 0.75], 0.5)).toBe(0.25);
  });

  it('has no ratio without a clean bare run, and flags rows with errors in the table', () => {
    const { ROUTES, formatTable, bareRps } = report;
    const rows = [
      row({ route: ROUTES.bare, rps: 1000 }),
      row({ route: ROUTES.whoami, rps: 950, errors: 2 }),
      row({ route: ROUTES.bare, rps: 1000, errors: 1, tenants: 10 }),
      row({ route: ROUTES.whoami, rps: 950, tenants: 10, cpuUs: 123.4 }),
    ];
    expect(bareRps(rows.slice(2))).toBeUndefined();
    const table: string = formatTable(rows);
    expect(table.split('\n')).toHaveLength(6);
    expect(table).toContain('| express | embedded | 1 | @ConnectAuth() | 950 | 1.00 | 2.00 | 95.0 % ⚠ | **2 ⚠** | 100 | — |');
    expect(table).toContain('| express | embedded | 10 | @ConnectAuth() | 950 | 1.00 | 2.00 | — | 0 | 100 | 123 |');
  });

  it('checks the targets: ratio ≥ 90 %, tenant counts within 10 %, RSS levelling off; errors never pass', () => {
    const { ROUTES, evaluateTargets } = report;
    const block = (tenants: number, whoami: number, rssTrail: number[], errors = 0) => [
      row({ route: ROUTES.bare, rps: 1000, tenants }),
      row({ route: ROUTES.whoami, rps: whoami, tenants, errors }),
      row({ route: ROUTES.sweep, rps: 10, tenants, rssTrail, sweptTenants: rssTrail.length * 10_000 }),
    ];
    const met = evaluateTargets([...block(1, 950, [90]), ...block(10_000, 940, [120]), ...block(100_000, 930, [200, 260, 270, 275])]);
    expect(met.lines.join('\n')).toMatch(/100,000 tenants: @ConnectAuth\(\) at 93\.0 % of bare ≥ 90 %: \*\*met\*\*/);
    expect(met.lines.join('\n')).toMatch(/200 → 260 → 270 → 275 MB \(\+5\.8 % over the second half\); second half of the sweep \(after 20,000 tenants\) under \+10 %: \*\*met\*\*/);
    expect(met.allMet).toBe(true);

    const slow = evaluateTargets([...block(1, 950, [90]), ...block(100_000, 800, [200, 260, 270, 275])]);
    expect(slow.allMet).toBe(false);
    expect(slow.lines.join('\n')).toMatch(/-15\.8 % relative \(within ±10 %\): \*\*not met\*\*/);

    expect(evaluateTargets(block(1, 990, [90], 1)).allMet).toBe(false);
    const growing = evaluateTargets([...block(1, 950, [90]), ...block(100_000, 950, [200, 240, 280, 320])]);
    expect(growing.lines.join('\n')).toMatch(/\+33\.3 % .*\*\*not met\*\*/);
    // With the heap probe's samples, memory right after a full collection is what is judged: RSS as the
    // app ran may keep growing (V8 sizing its heap) while nothing live does, and a live heap that
    // grows fails even when RSS after collection does not.
    const live = (rss: number[], heap: number[]) => rss.map((rssMb, i) => ({ rssMb, heapMb: heap[i], externalMb: 5 }));
    const sweepWith = (liveTrail: unknown[]) => [
      ...block(1, 950, [90]),
      row({ route: ROUTES.bare, rps: 1000, tenants: 100_000 }),
      row({ route: ROUTES.whoami, rps: 950, tenants: 100_000 }),
      row({ route: ROUTES.sweep, rps: 10, tenants: 100_000, rssTrail: [200, 240, 280, 320], liveTrail, sweptTenants: 40_000 }),
    ];
    const flat = evaluateTargets(sweepWith(live([190, 195, 196, 197], [55, 58, 59, 60])));
    expect(flat.lines.join('\n')).toMatch(
      /right after a full garbage collection: RSS 190 → 195 → 196 → 197 MB \(\+1\.0 % over the second half\); live heap \(V8 heap \+ external\) 60 → 63 → 64 → 65 MB \(\+3\.2 % over the second half\); .*\*\*met\*\*/,
    );
    expect(flat.lines.join('\n')).toMatch(/RSS as the app ran \(before each collection\): 200 → 240 → 280 → 320 MB \(\+33\.3 %/);
    expect(flat.allMet).toBe(true);
    const leaking = evaluateTargets(sweepWith(live([190, 195, 196, 197], [55, 60, 70, 80])));
    expect(leaking.lines.join('\n')).toMatch(/live heap .* \(\+30\.8 % over the second half\); .*\*\*not met\*\*/);
    expect(leaking.allMet).toBe(false);
    // A sample the probe could not take: judged on RSS as the app ran.
    expect(evaluateTargets(sweepWith([...live([190, 195, 196], [55, 58, 59]), undefined])).allMet).toBe(false);
    // Too small a sweep cannot show a bound: not checked is not met.
    const unchecked = evaluateTargets([...block(1, 950, [90]), ...block(20_000, 950, [200, 210])]);
    expect(unchecked.lines.join('\n')).toMatch(/RSS bound: not checked/);
    expect(unchecked.allMet).toBe(false);
  });

  it('compares each scenario with ACE by the median of the paired rounds, and flags a side with errors', () => {
    const { ACE_ROUTES, aceComparison, formatAceTable } = report;
    const side = (app: string, route: string, rounds: number[], extra: Record<string, unknown> = {}) =>
      row({ app, route, rounds, rps: [...rounds].sort((a, b) => a - b)[1], cpuUs: 100, ...extra });
    const rows = [
      side('ours', ACE_ROUTES.reused, [900, 1800, 3000]),
      side('ours', ACE_ROUTES.bare, [1000, 1000, 1000]),
      side('ace', ACE_ROUTES.reused, [300, 300, 1000]),
      side('ace', ACE_ROUTES.bare, [500, 500, 500], { errors: 1 }),
      side('ours', ACE_ROUTES.bare, [100, 100, 100], { adapter: 'fastify', ranAs: 'fastify' }),
      side('ace', ACE_ROUTES.bare, [50, 50, 25], { adapter: 'fastify', ranAs: 'fastify' }),
    ];
    // Round by round 3 ×, 6 × and 3 ×: the median is 3 ×, whatever the medians of the req/s say (1,800 / 300).
    const entries = aceComparison(rows);
    expect(entries.map((entry: { route: string; ratio?: number }) => [entry.route, entry.ratio])).toEqual([
      [ACE_ROUTES.bare, undefined],
      [ACE_ROUTES.reused, 3],
      [ACE_ROUTES.bare, 2],
    ]);
    const table: string = formatAceTable(rows);
    expect(table.split('\n')).toHaveLength(5);
    expect(table).toContain(`| express | embedded | 1 | ${ACE_ROUTES.reused} | 1,800 | 300 | 3.00 × |`);
    expect(table).toContain(`| express | embedded | 1 | ${ACE_ROUTES.bare} | 1,000 | 500 | — | 1.00 / 2.00 | 1.00 / 2.00 | 0 / **1 ⚠** |`);
  });

  it('rewrites only what lies between its markers', () => {
    const { spliceGenerated, BEGIN_MARKER, END_MARKER } = report;
    const first = spliceGenerated(undefined, 'table one');
    expect(first).toContain(`${BEGIN_MARKER}\ntable one\n${END_MARKER}`);
    const edited = `# Benchmarks\n\n## Analysis\n\nWritten by hand.\n\n${first.slice(first.indexOf(BEGIN_MARKER))}\n## After\n\nAlso by hand.\n`;
    const second = spliceGenerated(edited, 'table two');
    expect(second).toContain('Written by hand.');
    expect(second).toContain('Also by hand.');
    expect(second).toContain('table two');
    expect(second).not.toContain('table one');
  });
});

describe('npm run bench (one short run)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('measures every route against the real app and writes the table between the markers', async () => {
    const output = join(dir, 'benchmarks.md');
    writeFileSync(output, '# Benchmarks\n\nHand-written analysis stays.\n');
    const child = spawn(process.execPath, ['bench/run.mjs'], {
      cwd: ROOT,
      // DATABASE_URL passes through: on the PostgreSQL pass the bench runs there (in its own schema).
      env: { ...process.env, BENCH_DURATION: '1', BENCH_WARMUP: '0', BENCH_TENANTS: '1', BENCH_ADAPTERS: 'express', BENCH_OUTPUT: output },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.once('exit', done));
    expect({ code, log: code === 0 ? '' : log }).toEqual({ code: 0, log: '' });

    const written = readFileSync(output, 'utf8');
    expect(written).toContain('Hand-written analysis stays.');
    const { ROUTES } = report;
    for (const route of Object.values(ROUTES) as string[]) {
      const line = written.split('\n').find((text) => text.startsWith(`| express | `) && text.includes(`| ${route}`));
      expect(line).toBeDefined();
      // adapter | database | tenants | route | req/s | p50 | p99 | ratio | errors | RSS | CPU µs/req
      const cells = line!
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim());
      expect(Number(cells[4]!.replace(/,/g, ''))).toBeGreaterThan(0);
      expect(Number(cells[6])).toBeGreaterThan(0);
      expect(cells[8]).toBe('0');
      if (process.platform === 'linux') expect(Number(cells[10]!.replace(/,/g, ''))).toBeGreaterThan(0);
    }
    expect(written).toMatch(/@ConnectAuth\(\) at \d+\.\d % of bare/);
    expect(written).toContain('### Machine');
  }, 120_000);
});

/**
 * The ACE app the benchmark compares with (bench/ace/app.mjs), started as the bench starts it, on the
 * PostgreSQL server at DATABASE_URL (ACE's sequelize store needs a server; the embedded engine serves
 * one connection at a time). A tenant seeded as the bench seeds it, then real signed requests.
 */
const describeWithServer = process.env.DATABASE_URL ? describe : describe.skip;
describeWithServer('the ACE app of npm run bench (PostgreSQL)', () => {
  const databaseUrl = process.env.DATABASE_URL!;
  const schema = `ace_smoke_${randomBytes(4).toString('hex')}`;
  const tenant = { clientKey: '5d0c1b5e-7f5a-4c0b-8d3e-0a1b2c3d4e5f', sharedSecret: randomBytes(32).toString('base64url'), index: 0 };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let app: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let testing: any;

  beforeAll(async () => {
    const { startApp } = await import(pathToFileURL(join(ROOT, 'bench/app-process.mjs')).href);
    const { seedAceTenants } = await import(pathToFileURL(join(ROOT, 'bench/ace/seed.mjs')).href);
    testing = await import(pathToFileURL(join(ROOT, 'dist/connect/testing/index.js')).href);
    app = await startApp({ script: 'bench/ace/app.mjs', env: { DATABASE_URL: databaseUrl, ACE_DB_SCHEMA: schema }, timeoutMs: 60_000 });
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await seedAceTenants(client, { schema, tenants: [tenant] });
    } finally {
      await client.end();
    }
  }, 90_000);

  afterAll(async () => {
    await app?.stop();
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  });

  const whoami = (headers: Record<string, string> = {}) => fetch(`${app.url}/jira/api/whoami`, { headers, signal: AbortSignal.timeout(10_000) });
  const token = (sharedSecret: string) =>
    testing.signConnectToken({ clientKey: tenant.clientKey, sharedSecret, method: 'GET', url: '/jira/api/whoami', appBaseUrl: `${app.url}/jira`, expiresIn: 300 });

  it('answers whoami behind addon.authenticate() with the seeded tenant for a signed request, 401 without or with a wrong secret', async () => {
    const ok = await whoami({ authorization: `JWT ${await token(tenant.sharedSecret)}` });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ clientKey: tenant.clientKey, accountId: null, productType: 'jira' });

    const none = await whoami();
    expect(none.status).toBe(401);
    await none.arrayBuffer();
    // ACE answers a bad signature with 400 ("Unable to decodeSymmetric"): a rejection all the same.
    const forged = await whoami({ authorization: `JWT ${await token(randomBytes(32).toString('base64url'))}` });
    expect([400, 401]).toContain(forged.status);
    await forged.arrayBuffer();
  });

  it('is measured side by side with the example app by npm run bench (BENCH_ACE=only, one short run)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-ace-smoke-'));
    try {
      const output = join(dir, 'benchmarks.md');
      const adapter = process.env.CONNECT_TEST_ADAPTER === 'fastify' ? 'fastify' : 'express';
      const child = spawn(process.execPath, ['bench/run.mjs'], {
        cwd: ROOT,
        env: {
          ...process.env,
          BENCH_ACE: 'only',
          BENCH_ACE_CONNECTIONS: '10',
          BENCH_DURATION: '1',
          BENCH_ROUNDS: '2',
          BENCH_WARMUP: '0',
          BENCH_TENANTS: '1',
          BENCH_ADAPTERS: adapter,
          BENCH_OUTPUT: output,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let log = '';
      child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
      const code = await new Promise<number | null>((done) => child.once('exit', done));
      expect({ code, log: code === 0 ? '' : log }).toEqual({ code: 0, log: '' });
      const written = readFileSync(output, 'utf8');
      expect(written).toContain('### Against atlassian-connect-express');
      for (const route of Object.values(report.ACE_ROUTES) as string[]) {
        const line = written.split('\n').find((text) => text.startsWith(`| ${adapter} | postgres | 1 | ${route} |`));
        expect(line).toBeDefined();
        // adapter | database | tenants | scenario | ours req/s | ACE req/s | ours ÷ ACE | … | errors ours / ACE | …
        const cells = line!
          .split('|')
          .slice(1, -1)
          .map((cell) => cell.trim());
        expect(Number(cells[4]!.replace(/,/g, ''))).toBeGreaterThan(0);
        expect(Number(cells[5]!.replace(/,/g, ''))).toBeGreaterThan(0);
        expect(cells[6]).toMatch(/^\d+\.\d\d ×$/);
        expect(cells[9]).toBe('0 / 0');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('keeps its tables in its own schema and answers the bare route without a token', async () => {
    const bare = await fetch(`${app.url}/jira/bench/bare`, { signal: AbortSignal.timeout(10_000) });
    expect(bare.status).toBe(200);
    expect(Object.keys((await bare.json()) as object)).toEqual(['clientKey', 'accountId', 'productType']);
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [schema]);
      expect(rows.map((r: { table_name: string }) => r.table_name)).toEqual(['AddonSettings', 'ForgeSettings', 'InstallationClientKeys']);
    } finally {
      await client.end();
    }
  });
});
