import { FakeRateLimitBudget } from '../../testing/fake-rate-limit-budget.js';
import { ConnectClientError } from '../connect-client-error.js';
import { hintedDelayMs } from '../retry-policy.js';
import type { PacerClock } from './pacer-clock.js';
import { connectBudget, type RateLimitBudgetRef } from './rate-limit-key.js';
import { RateLimitPacer, type RateLimitPacerOptions } from './rate-limit-pacer.js';
import type { ConnectRateLimitSnapshot, RateLimitTenant } from './rate-limit-snapshot.js';

/** Virtual time: timers run in order when the test advances the clock. */
class FakeClock implements PacerClock {
  time = Date.parse('2026-06-01T10:00:00Z');
  private readonly timers = new Map<number, { at: number; run: () => void }>();
  private nextId = 1;

  now(): number {
    return this.time;
  }
  setTimeout(run: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), run });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }
  /** Runs every timer (and what they schedule) until none is left or `until` is reached. */
  async run(until = Infinity): Promise<void> {
    for (;;) {
      await settle();
      let next: [number, { at: number; run: () => void }] | undefined;
      for (const entry of this.timers) if (next === undefined || entry[1].at < next[1].at) next = entry;
      if (next === undefined || next[1].at > until) break;
      this.timers.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].run();
    }
    if (until !== Infinity) this.time = Math.max(this.time, until);
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

const LATENCY_MS = 20;
const facts = { method: 'GET', url: 'https://site.example/rest/api/3/myself', retries: 0 };

/** A client loop over the pacer, as `ConnectHttpClient` runs it, against a fake product with a budget and latency. */
function harness(options: Partial<RateLimitPacerOptions> = {}, budget = new FakeRateLimitBudget({ points: 100, windowMs: 60_000 })) {
  const clock = new FakeClock();
  const near: { tenant: RateLimitTenant; snapshot: ConnectRateLimitSnapshot }[] = [];
  const pacer = new RateLimitPacer({
    pacing: true,
    paceBelow: 0.2,
    maxQueuedPerTenant: 1000,
    maxWaitMs: 600_000,
    maxTenants: 100,
    clock,
    logger: { debug: () => undefined },
    onNearLimit: (tenant, snapshot) => near.push({ tenant, snapshot }),
    ...options,
  });
  const sent: { tenant: string; at: number; status: number }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  async function call(ref: RateLimitBudgetRef, charge = true): Promise<number> {
    let seq = 0;
    if (pacer.pacing) {
      const admitted = pacer.admit(ref, facts);
      seq = typeof admitted === 'number' ? admitted : await admitted;
    }
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await clock.sleep(LATENCY_MS / 2);
    const answer = charge ? budget.charge(ref.key, clock.now()) : { spent: false, headers: {} };
    const status = answer.spent ? 429 : 200;
    sent.push({ tenant: ref.key, at: clock.now(), status });
    await clock.sleep(LATENCY_MS / 2);
    inFlight--;
    const headers = new Headers(answer.headers);
    pacer.observe({ rateLimit: ref }, seq, status, headers, status === 429 ? hintedDelayMs(headers, clock.now()) : undefined);
    return status;
  }
  return {
    clock,
    pacer,
    near,
    sent,
    call,
    get maxInFlight() {
      return maxInFlight;
    },
    resetMaxInFlight() {
      maxInFlight = inFlight;
    },
  };
}

describe('RateLimitPacer', () => {
  const tenantA = connectBudget('com.example.app', 'client-a');
  const tenantB = connectBudget('com.example.app', 'client-b');

  it('spreads a 500-request burst over a per-minute budget: no 429, throughput within 10 % of the budget', async () => {
    const h = harness();
    // The first answer with rate-limit headers switches pacing on.
    expect(h.pacer.pacing).toBe(false);
    const warmUp = h.call(tenantA);
    await h.clock.run();
    expect(await warmUp).toBe(200);
    expect(h.pacer.pacing).toBe(true);
    const started = h.clock.now();
    const burst = Array.from({ length: 500 }, () => h.call(tenantA));
    await h.clock.run();
    const statuses = await Promise.all(burst);
    const elapsedMs = h.clock.now() - started;
    expect(statuses.filter((s) => s === 429)).toEqual([]);
    // 501 points of 100 per minute: the last one goes in the sixth window (5 full minutes after the first).
    const perMinute = (500 / elapsedMs) * 60_000;
    expect(Math.abs(perMinute - 100) / 100).toBeLessThan(0.1);
    const snapshot = h.pacer.snapshot(tenantA.key)!;
    expect(snapshot).toMatchObject({ policy: 'tenant-app-quota', limit: 100, windowSeconds: 60, reason: 'jira-quota-tenant-based', status: 200 });
    expect(Object.isFrozen(snapshot)).toBe(true);
  });

  it('sends at once above paceBelow and spreads the rest of the window below it', async () => {
    const h = harness();
    await Promise.all([h.call(tenantA), h.clock.run()]);
    const started = h.clock.now();
    const burst = Array.from({ length: 99 }, () => h.call(tenantA));
    await h.clock.run(started + 1000);
    // 1 + 79 go at once (down to 20 left); the last 20 are spread over the rest of the minute.
    const early = h.sent.filter((s) => s.at <= started + 1000).length;
    expect(early).toBeGreaterThanOrEqual(80);
    expect(early).toBeLessThan(85);
    await h.clock.run();
    await Promise.all(burst);
    const tail = h.sent.slice(-19).map((s) => s.at - started);
    const gaps = tail.slice(1).map((at, i) => at - tail[i]!);
    expect(Math.min(...gaps)).toBeGreaterThan(1500);
    expect(tail.at(-1)!).toBeLessThanOrEqual(60_000 + LATENCY_MS);
    expect(h.sent.every((s) => s.status === 200)).toBe(true);
  });

  it('lets one request of a new tenant go alone to learn its budget', async () => {
    const h = harness();
    await Promise.all([h.call(tenantA), h.clock.run()]);
    h.resetMaxInFlight();
    const first = Array.from({ length: 5 }, () => h.call(tenantB));
    // Until the first answer arrives (one latency later), only that one request is out.
    await h.clock.run(h.clock.now() + LATENCY_MS - 1);
    expect(h.sent.filter((s) => s.tenant === tenantB.key)).toHaveLength(1);
    expect(h.maxInFlight).toBe(1);
    await h.clock.run();
    expect(await Promise.all(first)).toEqual([200, 200, 200, 200, 200]);
  });

  it('lets a tenant whose answers carry no budget through without waiting', async () => {
    const h = harness();
    await Promise.all([h.call(tenantA), h.clock.run()]);
    const quiet = connectBudget('com.example.app', 'no-headers');
    await Promise.all([h.call(quiet, false), h.clock.run()]);
    h.resetMaxInFlight();
    const calls = Array.from({ length: 10 }, () => h.call(quiet, false));
    await h.clock.run(h.clock.now() + 1);
    expect(h.maxInFlight).toBe(10);
    await h.clock.run();
    await Promise.all(calls);
    expect(h.pacer.snapshot(quiet.key)).toBeUndefined();
  });

  it('paces two tenants independently', async () => {
    const h = harness();
    await Promise.all([h.call(tenantA), h.call(tenantB), h.clock.run()]);
    // A spends its window; B is untouched and goes at once.
    const spendA = Array.from({ length: 99 }, () => h.call(tenantA));
    await h.clock.run(h.clock.now() + 5000);
    const beforeB = h.clock.now();
    const b = Array.from({ length: 10 }, () => h.call(tenantB));
    await h.clock.run(beforeB + 2 * LATENCY_MS);
    expect(h.sent.filter((s) => s.tenant === tenantB.key && s.at > beforeB)).toHaveLength(10);
    await h.clock.run();
    await Promise.all([...spendA, ...b]);
    expect(h.sent.every((s) => s.status === 200)).toBe(true);
  });

  it('refuses at once, with client/rate-limited, a request that would overfill the queue', async () => {
    const h = harness({ maxQueuedPerTenant: 50 });
    await Promise.all([h.call(tenantA), h.clock.run()]);
    // About 80 go at once and 50 wait; the rest are refused before any time passes.
    const results = Array.from({ length: 200 }, () => h.call(tenantA).then(String, (error: unknown) => error as ConnectClientError));
    await settle();
    const refusedAtOnce: ConnectClientError[] = [];
    for (const result of results) {
      const outcome = await Promise.race([result, Promise.resolve('pending')]);
      if (outcome instanceof ConnectClientError) refusedAtOnce.push(outcome);
    }
    expect(refusedAtOnce.length).toBeGreaterThanOrEqual(60);
    expect(refusedAtOnce.length).toBeLessThanOrEqual(70);
    expect(refusedAtOnce.every((e) => e.code === 'client/rate-limited' && /maxQueuedPerTenant/.test(e.message))).toBe(true);
    expect(refusedAtOnce[0]!.message).toContain('com.example.app on client-a');
    await h.clock.run();
    expect((await Promise.all(results)).filter((o) => o === '200')).toHaveLength(200 - refusedAtOnce.length);
    expect(h.sent.every((s) => s.status === 200)).toBe(true);
  });

  it('refuses at once a request that would wait past maxWaitMs, and lets the others go in time', async () => {
    const h = harness({ maxWaitMs: 10_000 });
    await Promise.all([h.call(tenantA), h.clock.run()]);
    const started = h.clock.now();
    const results = Array.from({ length: 100 }, () => h.call(tenantA).then(String, (error: unknown) => error as ConnectClientError));
    await h.clock.run(started + 1);
    const refused: ConnectClientError[] = [];
    for (const result of results) {
      const outcome = await Promise.race([result, Promise.resolve('pending')]);
      if (outcome instanceof ConnectClientError) refused.push(outcome);
    }
    // The paced part of the window is about 3 s per request: only the first few fit in 10 s.
    expect(refused.length).toBeGreaterThan(10);
    expect(refused.every((e) => e.code === 'client/rate-limited' && /maxWaitMs/.test(e.message))).toBe(true);
    await h.clock.run();
    const outcomes = await Promise.all(results);
    expect(outcomes.filter((o) => o === '200').length + refused.length).toBe(100);
    expect(h.clock.now() - started).toBeLessThan(10_000 + LATENCY_MS * 2);
    expect(h.sent.every((s) => s.status === 200)).toBe(true);
  });

  it('calls onNearLimit once per crossing, with the snapshot', async () => {
    const h = harness();
    await Promise.all([h.call(tenantA), h.clock.run()]);
    const burst = Array.from({ length: 200 }, () => h.call(tenantA));
    await h.clock.run();
    await Promise.all(burst);
    // Crossed into the last 20 % in the first window and again in the second.
    expect(h.near.length).toBe(2);
    expect(h.near[0]!.tenant).toEqual({ kind: 'connect', appKey: 'com.example.app', clientKey: 'client-a' });
    expect(h.near[0]!.snapshot).toMatchObject({ nearLimit: true, limit: 100 });
    expect(h.near[0]!.snapshot.remaining).toBeLessThan(20);
  });

  it('waits for the reset after a 429 instead of sending into a spent budget', async () => {
    const budget = new FakeRateLimitBudget({ points: 100, windowMs: 60_000 });
    const h = harness({}, budget);
    await Promise.all([h.call(tenantA), h.clock.run()]);
    // Someone else (another instance) spent the budget: the next answer is a 429 with Retry-After.
    for (let i = 0; i < 99; i++) budget.charge(tenantA.key, h.clock.now());
    await Promise.all([h.call(tenantA), h.clock.run()]);
    expect(h.pacer.snapshot(tenantA.key)).toMatchObject({ status: 429, remaining: 0 });
    const spentAt = h.clock.now();
    const next = h.call(tenantA);
    await h.clock.run();
    expect(await next).toBe(200);
    expect(h.sent.at(-1)!.at - spentAt).toBeGreaterThan(50_000);
  });

  it('remembers at most maxTenants budgets, least recently used forgotten first', async () => {
    const h = harness({ maxTenants: 3 });
    const refs = ['t1', 't2', 't3', 't4'].map((t) => connectBudget('com.example.app', t));
    for (const ref of refs.slice(0, 3)) await Promise.all([h.call(ref), h.clock.run()]);
    await Promise.all([h.call(refs[0]!), h.clock.run()]);
    await Promise.all([h.call(refs[3]!), h.clock.run()]);
    expect(h.pacer.size).toBe(3);
    expect(h.pacer.snapshot(refs[1]!.key)).toBeUndefined();
    expect(h.pacer.snapshot(refs[0]!.key)).toBeDefined();
  });

  it('fails the waiting requests on close, and an aborted wait with client/aborted', async () => {
    const h = harness();
    await Promise.all([h.call(tenantA), h.clock.run()]);
    const controller = new AbortController();
    // Spend the local estimate (those that must wait are failed by close() below).
    const spending = Array.from({ length: 99 }, () => Promise.resolve(h.pacer.admit(tenantA, facts)).catch((error: unknown) => error));
    const aborted = h.pacer.admit(tenantA, facts, controller.signal) as Promise<number>;
    const waiting = h.pacer.admit(tenantA, facts) as Promise<number>;
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'client/aborted' });
    h.pacer.close();
    await expect(waiting).rejects.toMatchObject({ code: 'client/aborted' });
    const spent = await Promise.all(spending);
    expect(spent.filter((s) => typeof s === 'number').length).toBeGreaterThanOrEqual(79);
    expect(spent.filter((s) => typeof s !== 'number').every((e) => (e as ConnectClientError).code === 'client/aborted')).toBe(true);
    await expect(Promise.resolve(h.pacer.admit(tenantA, facts))).rejects.toMatchObject({ code: 'client/aborted' });
  });
});
