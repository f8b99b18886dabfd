// The benchmark's arithmetic and its markdown: pure functions, no I/O (unit-tested by
// test/bench-smoke.e2e-spec.ts). A "row" is one measured route of one block:
//   { adapter, ranAs, database, tenants, route, rps, rounds?, p50, p99, errors, rssMb, cpuUs, note?,
//     sweptTenants?, rssTrail?, liveTrail? }
// where `ranAs` is the adapter the app really answered with (it can differ from the requested one),
// `rounds` the req/s of each round, `cpuUs` the app's CPU time per request in µs; a sweep has the
// RSS after each chunk (`rssTrail`, MB) and what a full garbage collection then left
// (`liveTrail`: `{ heapMb, externalMb, rssMb }` each, from bench/heap-probe.mjs).

/** Target: an authenticated route keeps at least this share of the bare route's throughput. */
export const AUTH_RATIO_TARGET = 0.9;
/** Target: the whoami ratio with the most tenants stays within this relative distance of the ratio with the fewest. */
export const TENANT_RATIO_TOLERANCE = 0.1;
/** Memory counts as bounded when the second half of a sweep of ≥ 4 × the cache cap grows it by less than this share. */
export const RSS_GROWTH_TOLERANCE = 0.1;

export const BEGIN_MARKER = '<!-- bench:begin (written by `npm run bench`; edit outside these markers) -->';
export const END_MARKER = '<!-- bench:end -->';

/** The routes, in table order. */
export const ROUTES = {
  bare: 'bare (no guard)',
  bareQuery1k: 'bare + 1 KB query',
  whoami: '@ConnectAuth()',
  bareBuilt: 'bare, request built each time',
  fresh: '@ConnectAuth(), new token each request',
  context: 'context qsh',
  query1k: '@ConnectAuth() + 1 KB query',
  install: 'signed install (RS256)',
  sweep: 'sweep: new tenant, each token twice',
};

/**
 * The scenarios of the comparison with atlassian-connect-express (bench/ace-compare.mjs), in table
 * order. Their rows carry `app: 'ours' | 'ace'`; `adapter` is the example app's adapter of the block
 * (ACE always runs Express 4).
 */
export const ACE_ROUTES = {
  bare: 'bare (no auth)',
  reused: 'authenticated, one token reused',
  fresh: 'authenticated, new token each request',
};

/** The key of an adapter/database/tenants block: rows are only ever compared within one block. */
export function blockKey(row) {
  return `${row.adapter}|${row.database}|${row.tenants}`;
}

/** A measured row is valid only when every response had the expected status and nothing failed. */
export function isClean(row) {
  return row.errors === 0 && Number.isFinite(row.rps) && row.rps > 0;
}

/** The clean bare row of a block's rows (or of another baseline route), or undefined. */
export function bareRow(rows, route = ROUTES.bare) {
  return rows.find((row) => row.route === route && isClean(row));
}

/**
 * The route a row is compared with: the bare route sent the same way. A new token per request makes
 * autocannon build every request anew, which costs the load generator; its baseline pays that too.
 */
export function baselineOf(route) {
  return route === ROUTES.fresh ? ROUTES.bareBuilt : ROUTES.bare;
}

/** The bare route's throughput of a block (undefined without a clean bare run). */
export function bareRps(rows) {
  return bareRow(rows)?.rps;
}

/**
 * A route's throughput relative to the bare route of its block. Measured in rounds (each round runs
 * every GET route once, back to back), it is the median over the rounds of the route's req/s divided
 * by the bare route's req/s of the same round: load from elsewhere that changes between rounds
 * cancels out. Without matching rounds: the ratio of the two req/s.
 */
export function ratioTo(row, bare) {
  if (bare === undefined || !isClean(bare)) return undefined;
  const paired = pairedRatios(row, bare);
  if (paired.length > 0) return median(paired);
  if (!Number.isFinite(row.rps) || !(bare.rps > 0)) return undefined;
  return row.rps / bare.rps;
}

/** Each round's req/s of `row` divided by the bare route's of the same round (none without matching rounds). */
export function pairedRatios(row, bare) {
  if (!(row.rounds?.length > 1 && row.rounds.length === bare?.rounds?.length)) return [];
  return row.rounds.map((rps, index) => rps / bare.rounds[index]);
}

/** How far apart the bare route's rounds were, relative to their median: the noise of the block. */
export function bareSpread(rows) {
  const rounds = bareRow(rows)?.rounds;
  if (!rounds || rounds.length < 2) return undefined;
  return (Math.max(...rounds) - Math.min(...rounds)) / median(rounds);
}

/**
 * Adds `ratio` to every row but the baseline and the sweep (whose load generator rebuilds every
 * request, so its throughput is not comparable).
 */
export function withRatios(rows) {
  const blocks = groupBy(rows, blockKey);
  return rows.map((row) => {
    if (row.route === ROUTES.bare || row.route === ROUTES.sweep) return { ...row, ratio: undefined };
    return { ...row, ratio: ratioTo(row, bareRow(blocks.get(blockKey(row)), baselineOf(row.route))) };
  });
}

export function groupBy(items, keyOf) {
  const groups = new Map();
  for (const item of items) {
    const key = keyOf(item);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(item);
  }
  return groups;
}

/**
 * A row's numbers from its parts (one per round): req/s is the median of the rounds' req/s (each part
 * alone when there is one), `rounds` keeps them for paired ratios, p50/p99 come from every latency,
 * `cpuUs` is the app's CPU time per request (µs) over all parts.
 */
export function summarize(parts) {
  const rounds = parts.map((part) => part.total / part.seconds);
  const latencies = parts.flatMap((part) => part.latencies);
  const cpu = parts.every((part) => Number.isFinite(part.cpuMs)) ? parts.reduce((sum, part) => sum + part.cpuMs, 0) : NaN;
  const total = parts.reduce((sum, part) => sum + part.total, 0);
  return {
    rps: median(rounds),
    rounds,
    cpuUs: total > 0 ? (cpu * 1000) / total : NaN,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    errors: parts.reduce((sum, part) => sum + part.errors, 0),
    total,
  };
}

export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The `q` quantile (nearest rank) of `values`, in their unit; NaN when empty. */
export function percentile(values, q) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

// ---- formatting ----

export function formatNumber(value, digits = 0) {
  if (value === undefined || value === null || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function tenantCount(count) {
  return `${formatNumber(count)} tenant${count === 1 ? '' : 's'}`;
}

export function formatRatio(value) {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return `${(value * 100).toFixed(1)} %`;
}

function adapterCell(row) {
  return row.ranAs && row.ranAs !== row.adapter ? `${row.adapter} (ran ${row.ranAs}) ¹` : row.adapter;
}

/** One markdown table of every row, with ratios; rows with errors are flagged, never silently counted. */
export function formatTable(rows) {
  const header = ['adapter', 'database', 'tenants', 'route', 'req/s', 'p50 ms', 'p99 ms', 'ratio to bare', 'errors', 'app RSS MB', 'app CPU µs/req'];
  const align = ['---', '---', '---:', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:'];
  const lines = [`| ${header.join(' | ')} |`, `| ${align.join(' | ')} |`];
  for (const row of withRatios(rows)) {
    const flagged = !isClean(row);
    const cells = [
      adapterCell(row),
      row.database,
      formatNumber(row.tenants),
      row.route + (row.note ? ` (${row.note})` : ''),
      formatNumber(row.rps),
      formatNumber(row.p50, 2),
      formatNumber(row.p99, 2),
      flagged && row.ratio !== undefined ? `${formatRatio(row.ratio)} ⚠` : formatRatio(row.ratio),
      flagged ? `**${formatNumber(row.errors)} ⚠**` : '0',
      formatNumber(row.rssMb, 0),
      formatNumber(row.cpuUs, 0),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/**
 * The targets, checked per adapter and database:
 * - `@ConnectAuth()` ≥ 90 % of bare in every block;
 * - the whoami ratio with the most tenants within 10 % (relative) of the ratio with the fewest;
 * - memory bounded: in the largest sweep (≥ 4 × the cache cap, in chunks of the cap), memory after the
 *   last chunk within 10 % of memory after half of the sweep: RSS and live heap right after a full
 *   garbage collection when the sweep has them (`liveTrail`), else RSS as the app ran.
 * Returns `{ lines: string[], allMet: boolean }`; a check that could not be made says so (and is not "met").
 */
export function evaluateTargets(rows, { cacheCap = 10_000 } = {}) {
  const lines = [];
  let allMet = true;
  const verdict = (ok) => {
    if (!ok) allMet = false;
    return ok ? '**met**' : '**not met**';
  };
  const rated = withRatios(rows);
  for (const [key, group] of groupBy(rated, (row) => `${row.adapter}|${row.database}`)) {
    const [adapter, database] = key.split('|');
    const ranAs = group.find((row) => row.ranAs && row.ranAs !== adapter)?.ranAs;
    const title = `${adapter}${ranAs ? ` (ran ${ranAs})` : ''}, ${database}`;
    const auth = group.filter((row) => row.route === ROUTES.whoami);
    for (const row of auth) {
      const spread = bareSpread(group.filter((other) => other.tenants === row.tenants));
      const driftNote = spread === undefined ? '' : ` (noise: the bare route's rounds ${formatRatio(spread)} apart)`;
      if (!isClean(row) || row.ratio === undefined) {
        lines.push(`- ${title}, ${tenantCount(row.tenants)}: @ConnectAuth() ≥ 90 % of bare: ${verdict(false)} (run had errors or no clean bare run)`);
      } else {
        const bare = bareRow(group.filter((other) => other.tenants === row.tenants));
        const cpuRatio = bare && row.cpuUs > 0 && bare.cpuUs > 0 ? bare.cpuUs / row.cpuUs : undefined;
        const cpuNote = cpuRatio === undefined ? '' : `; by app CPU per request ${formatNumber(bare.cpuUs)} vs ${formatNumber(row.cpuUs)} µs = ${formatRatio(cpuRatio)}`;
        lines.push(
          `- ${title}, ${tenantCount(row.tenants)}: @ConnectAuth() at ${formatRatio(row.ratio)} of bare ≥ 90 %: ${verdict(row.ratio >= AUTH_RATIO_TARGET)}${driftNote}${cpuNote}`,
        );
      }
    }
    // Not a target: every paired round of every block of this adapter and database together. One
    // block's median of ten rounds moves by about ±10 % on a noisy machine; this moves less.
    const pooled = auth
      .filter(isClean)
      .flatMap((row) => pairedRatios(row, bareRow(group.filter((other) => other.tenants === row.tenants))))
      .sort((a, b) => a - b);
    if (auth.length > 1 && pooled.length >= 4) {
      const quartile = (q) => pooled[Math.min(pooled.length - 1, Math.floor(q * pooled.length))];
      lines.push(
        `  - for reference, all ${formatNumber(pooled.length)} paired rounds of these blocks together: median ${formatRatio(median(pooled))} of bare (middle half of the rounds ${formatRatio(quartile(0.25))} to ${formatRatio(quartile(0.75))})`,
      );
    }
    // Not a target: the same route when no request repeats an earlier one, so nothing can be recalled
    // and every token is verified in full (decode, HMAC, qsh).
    for (const row of group.filter((other) => other.route === ROUTES.fresh)) {
      const base = bareRow(
        group.filter((other) => other.tenants === row.tenants),
        ROUTES.bareBuilt,
      );
      const cpu =
        base && row.cpuUs > 0 && base.cpuUs > 0
          ? `; by app CPU per request ${formatNumber(base.cpuUs)} vs ${formatNumber(row.cpuUs)} µs = ${formatRatio(base.cpuUs / row.cpuUs)}`
          : '';
      lines.push(
        `  - for reference, ${tenantCount(row.tenants)}, a new token on every request (each verified in full): ${isClean(row) && row.ratio !== undefined ? formatRatio(row.ratio) : '—'} of the bare route sent the same way${cpu}`,
      );
    }
    const cleanAuth = auth.filter((row) => isClean(row) && row.ratio !== undefined).sort((a, b) => a.tenants - b.tenants);
    if (cleanAuth.length >= 2 && cleanAuth[0].tenants !== cleanAuth[cleanAuth.length - 1].tenants) {
      const few = cleanAuth[0];
      const many = cleanAuth[cleanAuth.length - 1];
      const change = many.ratio / few.ratio - 1;
      lines.push(
        `- ${title}: ratio with ${formatNumber(many.tenants)} tenants ${formatRatio(many.ratio)} vs ${formatNumber(few.tenants)}: ${formatRatio(few.ratio)}, ` +
          `${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)} % relative (within ±10 %): ${verdict(Math.abs(change) <= TENANT_RATIO_TOLERANCE)}`,
      );
      // Supplementary (not a target): with 10,000 and more tenants the requests rotate over the same
      // number of distinct tenants, so this isolates the size of the table.
      const middle = cleanAuth.filter((row) => row.tenants >= cacheCap && row !== many);
      if (middle.length > 0) {
        const base = middle[0];
        const delta = many.ratio / base.ratio - 1;
        lines.push(
          `  - for reference, ${formatNumber(base.tenants)} → ${formatNumber(many.tenants)} tenants: ${formatRatio(base.ratio)} → ${formatRatio(many.ratio)} (${delta >= 0 ? '+' : ''}${(delta * 100).toFixed(1)} % relative)`,
        );
      }
    } else if (auth.length > 0) {
      allMet = false;
      lines.push(`- ${title}: ratio vs tenant count: not checked (needs clean runs with two tenant counts)`);
    }
    // Memory: the largest sweep, in chunks of the cache's cap; bounded when its second half (every
    // chunk of it past half the sweep) grows memory by less than the tolerance.
    const sweep = group.filter((row) => row.route === ROUTES.sweep && isClean(row) && row.rssTrail?.length >= 4).sort((a, b) => b.sweptTenants - a.sweptTenants)[0];
    if (sweep) {
      const trail = sweep.rssTrail;
      const halfCount = (Math.floor(trail.length / 2) * sweep.sweptTenants) / trail.length;
      const about = `during a sweep of ${formatNumber(sweep.sweptTenants)} distinct tenants (${formatNumber(sweep.tenants)} in the table, cache cap ${formatNumber(cacheCap)}), after each ${formatNumber(sweep.sweptTenants / trail.length)}`;
      const asRun = secondHalfGrowth(trail);
      const live = sweep.liveTrail?.length === trail.length && sweep.liveTrail.every(Boolean) ? sweep.liveTrail : undefined;
      if (live) {
        // After a full garbage collection: what the caches and everything else still hold. RSS as the
        // app runs also counts heap V8 has grown into ahead of need, which is reported, not judged.
        const rss = secondHalfGrowth(live.map((sample) => sample.rssMb));
        const heap = secondHalfGrowth(live.map((sample) => sample.heapMb + sample.externalMb));
        lines.push(
          `- ${title}: memory ${about}, right after a full garbage collection: RSS ${formatTrail(rss)}; live heap (V8 heap + external) ${formatTrail(heap)}; ` +
            `second half of the sweep (after ${formatNumber(halfCount)} tenants) under +${RSS_GROWTH_TOLERANCE * 100} % each: ${verdict(rss.growth < RSS_GROWTH_TOLERANCE && heap.growth < RSS_GROWTH_TOLERANCE)}`,
          `  - RSS as the app ran (before each collection): ${formatTrail(asRun)}`,
        );
      } else {
        lines.push(
          `- ${title}: RSS ${about}: ${formatTrail(asRun)}; second half of the sweep (after ${formatNumber(halfCount)} tenants) under +${RSS_GROWTH_TOLERANCE * 100} %: ${verdict(asRun.growth < RSS_GROWTH_TOLERANCE)}`,
        );
      }
    } else if (group.some((row) => row.route === ROUTES.sweep)) {
      allMet = false;
      lines.push(`- ${title}: RSS bound: not checked (needs a clean sweep of at least 4 × the cache cap of ${formatNumber(cacheCap)} distinct tenants)`);
    }
  }
  return { lines, allMet };
}

/** A trail of samples: the one after half of them, the last, and the relative growth in between. */
export function secondHalfGrowth(trail) {
  const half = trail[Math.floor(trail.length / 2) - 1];
  const last = trail[trail.length - 1];
  return { trail, half, last, growth: last / half - 1 };
}

function formatTrail({ trail, growth }) {
  return `${trail.map((mb) => formatNumber(mb)).join(' → ')} MB (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)} % over the second half)`;
}

/**
 * The comparison with ACE, one entry per block and scenario: `{ key, route, ours, ace, ratio, ratioRounds }`,
 * where `ratio` is the median over the rounds of our req/s divided by ACE's req/s of the same round
 * (both back to back), undefined unless both rows are clean.
 */
export function aceComparison(rows) {
  const order = Object.values(ACE_ROUTES);
  const entries = [];
  for (const [key, group] of groupBy(rows, (row) => `${blockKey(row)}|${row.route}`)) {
    const ours = group.find((row) => row.app === 'ours');
    const ace = group.find((row) => row.app === 'ace');
    const clean = ours && ace && isClean(ours) && isClean(ace);
    const paired = clean ? pairedRatios(ours, ace) : [];
    const ratio = !clean ? undefined : paired.length > 0 ? median(paired) : ours.rps / ace.rps;
    entries.push({ key, route: (ours ?? ace).route, ours, ace, ratio, ratioRounds: paired });
  }
  // Blocks in the order they ran, the scenarios of each in table order.
  const blocks = [...new Set(rows.map(blockKey))];
  const rank = (entry) => blocks.indexOf(blockKey(entry.ours ?? entry.ace)) * order.length + order.indexOf(entry.route);
  return entries.sort((a, b) => rank(a) - rank(b));
}

/** The comparison table: both apps' numbers per scenario and the median of the paired ratios. */
export function formatAceTable(rows) {
  const header = [
    'adapter (ours)',
    'database',
    'tenants',
    'scenario',
    'ours req/s',
    'ACE req/s',
    'ours ÷ ACE',
    'ours p50 / p99 ms',
    'ACE p50 / p99 ms',
    'errors ours / ACE',
    'CPU µs/req ours / ACE',
    'RSS MB ours / ACE',
  ];
  const align = ['---', '---', '---:', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:'];
  const lines = [`| ${header.join(' | ')} |`, `| ${align.join(' | ')} |`];
  const errors = (row) => (row === undefined ? '—' : isClean(row) ? '0' : `**${formatNumber(row.errors)} ⚠**`);
  const times = (row) => `${formatNumber(row?.p50, 2)} / ${formatNumber(row?.p99, 2)}`;
  for (const { ours, ace, ratio } of aceComparison(rows)) {
    const any = ours ?? ace;
    const note = [ours?.note && `ours: ${ours.note}`, ace?.note && `ACE: ${ace.note}`].filter(Boolean).join('; ');
    const cells = [
      any.adapter,
      any.database,
      formatNumber(any.tenants),
      any.route + (note ? ` (${note})` : ''),
      formatNumber(ours?.rps),
      formatNumber(ace?.rps),
      ratio === undefined ? '—' : `${formatNumber(ratio, 2)} ×`,
      times(ours),
      times(ace),
      `${errors(ours)} / ${errors(ace)}`,
      `${formatNumber(ours?.cpuUs)} / ${formatNumber(ace?.cpuUs)}`,
      `${formatNumber(ours?.rssMb)} / ${formatNumber(ace?.rssMb)}`,
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Replaces the generated part of `existing` (between the markers), or builds a new document around it. */
export function spliceGenerated(existing, generated) {
  const block = `${BEGIN_MARKER}\n${generated.trim()}\n${END_MARKER}`;
  if (existing) {
    const begin = existing.indexOf(BEGIN_MARKER);
    const end = existing.indexOf(END_MARKER, begin);
    if (begin !== -1 && end !== -1) return existing.slice(0, begin) + block + existing.slice(end + END_MARKER.length);
    return `${existing.trimEnd()}\n\n${block}\n`;
  }
  return `# Benchmarks\n\n${block}\n`;
}
