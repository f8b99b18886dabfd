import { randomUUID } from 'node:crypto';
import type { ConnectProduct } from '../config/connect-product.js';
import { FORGE_INSTALLED_EVENT } from '../forge/forge-event.js';
import type { ForgeDeliveryAttempt, ForgeDeliveryOptions, ForgeDeliveryReport } from '../testing/fake-forge-delivery.js';
import { FakeForgeHost, type ForgeInvokeOptions } from '../testing/fake-forge-host.js';
import type { HttpCallResponse } from '../testing/http-call.js';
import { SAMPLE_ACCOUNT_ID } from './modules.js';
import type { StepResult } from './table.js';

export interface ForgeRemoteSimulationOptions {
  /** The Forge Remote endpoint to invoke, e.g. `http://localhost:3000/forge/remote/hello`. */
  url: string;
  /** The Forge app id the app is configured with (`aud` of the minted tokens). */
  appId: string;
  /** Port of the JWKS server (what the app's FORGE_JWKS_URL points at). Default: a free one. */
  jwksPort?: number;
  /** `principal` of the minted tokens. */
  accountId?: string;
  /** HTTP method of the invocation (default POST, as events and scheduled triggers use). */
  method?: string;
  /**
   * The app's Forge event endpoint (`<app basePath>/forge/events`, `/scheduled` and `/pre-uninstall`
   * below it). Without it, no event steps.
   */
  eventsUrl?: string;
  /** Whose sample product event to send (default jira). */
  product?: ConnectProduct;
  /** The `scheduledTrigger` module key to fire (default {@link SIMULATED_TRIGGER_KEY}). */
  triggerKey?: string;
}

/** The scheduled trigger fired when none is named: no handler with a key takes it, `@OnForgeScheduledTrigger()` does. */
export const SIMULATED_TRIGGER_KEY = 'simulated-trigger';

/** A product event per product, with the fields Forge sends (no handler may need more of a sample). */
const SAMPLE_PRODUCT_EVENTS: Record<ConnectProduct, { eventType: string; payload: Record<string, unknown> }> = {
  jira: {
    eventType: 'avi:jira:created:issue',
    payload: { issue: { id: '10001', key: 'SIM-1', fields: { summary: 'Simulated issue' } }, atlassianId: SAMPLE_ACCOUNT_ID },
  },
  confluence: {
    eventType: 'avi:confluence:created:page',
    payload: { content: { id: '65537', type: 'page', title: 'Simulated page', space: { key: 'SIM' } }, atlassianId: SAMPLE_ACCOUNT_ID },
  },
};

/**
 * One redelivery after a short wait: Forge's own schedule (four, a minute apart) would keep the simulator
 * busy for minutes, but one shows what a redelivery changes (a handler that failed once succeeds).
 */
const EVENT_DELIVERY: Pick<ForgeDeliveryOptions, 'retries' | 'retryDelayMs'> = { retries: 1, retryDelayMs: 250 };
const SIMULATED_SYSTEM_TOKEN = 'simulated-forge-system-token';

export interface ForgeRemoteReport {
  ok: boolean;
  rows: StepResult[];
  hints: string[];
}

/**
 * Forge calling a Forge Remote endpoint: a JWKS server with a fresh RSA key (start it first, so the app
 * can be pointed at it), then an invocation with a valid FIT and the OAuth token headers, and three that
 * must be refused with 401: no token, a FIT for another app (wrong aud), an expired FIT. With
 * `eventsUrl`, then Forge's deliveries to the event endpoint: `avi:forge:installed:app`, a product event,
 * a scheduled trigger, a preUninstall (each must be answered 2xx, redelivered once when not), and an
 * event without a FIT (must be refused with 401).
 */
export class ForgeRemoteSimulation {
  private readonly rows: StepResult[] = [];
  private readonly hints: string[] = [];

  private constructor(
    readonly host: FakeForgeHost,
    readonly options: ForgeRemoteSimulationOptions,
  ) {}

  static async start(options: ForgeRemoteSimulationOptions): Promise<ForgeRemoteSimulation> {
    return new ForgeRemoteSimulation(await FakeForgeHost.start({ jwksPort: options.jwksPort ?? 0, appId: options.appId }), options);
  }

  get jwksUrl(): string {
    return this.host.jwksUrl;
  }

  async run(): Promise<ForgeRemoteReport> {
    const method = (this.options.method ?? 'POST').toUpperCase();
    const principal = this.options.accountId ?? SAMPLE_ACCOUNT_ID;
    const valid = await this.step(`forge remote ${method} (valid FIT)`, 'any2xx', this.options.url, {
      method,
      token: { principal },
      systemToken: SIMULATED_SYSTEM_TOKEN,
      userToken: 'simulated-forge-user-token',
      body: { simulated: true },
    });
    if (valid !== undefined && valid.status >= 200 && valid.status < 300 && this.host.jwks.fetches() === 0) {
      this.hints.push(`The endpoint accepted the FIT without fetching ${this.jwksUrl}: does it verify tokens at all?`);
    }
    this.explain(valid);
    if (valid === undefined) {
      this.hints.push(`Nothing listens at ${this.options.url}: is the app running?`);
      return { ok: false, rows: this.rows, hints: this.hints };
    }
    const url = this.options.url;
    await this.step('forge remote: no token (must fail)', 401, url, { method, fit: null });
    await this.step('forge remote: wrong aud (must fail)', 401, url, { method, token: { appId: randomUUID(), principal } });
    await this.step('forge remote: expired FIT (must fail)', 401, url, { method, token: { principal, expiresIn: -600, issuedAt: -900, notBefore: -900 } });
    if (this.options.eventsUrl !== undefined) await this.events(this.options.eventsUrl.replace(/\/+$/, ''));
    return { ok: this.rows.every((row) => row.ok), rows: this.rows, hints: this.hints };
  }

  async close(): Promise<void> {
    await this.host.close();
  }

  /** Forge's deliveries to the event endpoint, all for this host's installation (the one the remote steps used). */
  private async events(url: string): Promise<void> {
    const delivery: ForgeDeliveryOptions = { ...EVENT_DELIVERY, systemToken: SIMULATED_SYSTEM_TOKEN };
    const sample = SAMPLE_PRODUCT_EVENTS[this.options.product ?? 'jira'];
    const triggerKey = this.options.triggerKey ?? SIMULATED_TRIGGER_KEY;
    const installed = await this.deliveryStep(`forge event ${FORGE_INSTALLED_EVENT}`, url, () => this.host.sendInstalledEvent(url, delivery));
    if (!installed) return;
    await this.deliveryStep(`forge event ${sample.eventType}`, url, () => this.host.sendEvent(url, sample.eventType, sample.payload, delivery));
    await this.deliveryStep(`forge scheduled trigger ${triggerKey}`, `${url}/scheduled`, () => this.host.runScheduledTrigger(`${url}/scheduled`, triggerKey, delivery));
    await this.deliveryStep('forge preUninstall', `${url}/pre-uninstall`, () => this.host.runPreUninstall(`${url}/pre-uninstall`, undefined, delivery));
    await this.step('forge events: no token (must fail)', 401, url, { fit: null, body: { payload: { eventType: sample.eventType, ...sample.payload } } });
  }

  /**
   * One delivery as a row: its last answer, the time of all attempts, and how the attempts went when
   * there were several. Returns false when nothing answered at all (no point in the next deliveries).
   */
  private async deliveryStep(step: string, url: string, deliver: () => Promise<ForgeDeliveryReport>): Promise<boolean> {
    const { delivered, attempts } = await deliver();
    const last = attempts.at(-1)!;
    const ms = attempts.reduce((sum, attempt) => sum + attempt.durationMs, 0);
    const earlier = attempts.slice(0, -1).map(describeAttempt);
    const status = typeof last.status === 'number' ? last.status : undefined;
    if (delivered) {
      const notes = [answerNote(last.body), earlier.length > 0 ? `delivered on attempt ${attempts.length}, after ${earlier.join(', ')}` : undefined].filter(Boolean);
      this.rows.push({ step, ...(status !== undefined && { status }), ms, ok: true, ...(notes.length > 0 && { problem: notes.join('; ') }) });
      return true;
    }
    if (status === undefined && last.status === 'network-error') {
      this.rows.push({ step, ms, ok: false, problem: `no answer from ${url}: ${String(last.body)}` });
      return false;
    }
    const got = status === undefined ? `no answer within ${Math.round(last.durationMs)} ms` : `got ${status}${typeDetail(last.body)}`;
    const again =
      earlier.length === 0
        ? ''
        : earlier.every((text) => text === describeAttempt(last))
          ? `, ${attempts.length === 2 ? 'also on the redelivery' : `on all ${attempts.length} attempts`}`
          : `; before: ${earlier.join(', ')}`;
    this.rows.push({ step, ...(status !== undefined && { status }), ms, ok: false, problem: `expected 2xx, ${got}${again}` });
    this.explain(status === undefined ? undefined : { status, body: last.body }, url);
    return true;
  }

  private hint(text: string): void {
    if (!this.hints.includes(text)) this.hints.push(text);
  }

  private async step(step: string, expected: 'any2xx' | 401, url: string, options: ForgeInvokeOptions): Promise<HttpCallResponse | undefined> {
    const started = performance.now();
    let response: HttpCallResponse;
    try {
      response = await this.host.invoke(url, options);
    } catch (error) {
      this.rows.push({ step, ok: false, problem: `no answer from ${url}: ${error instanceof Error ? error.message : String(error)}` });
      return undefined;
    }
    const ms = performance.now() - started;
    const type = (response.body as { type?: unknown } | null)?.type;
    const detail = typeof type === 'string' ? ` (${type})` : '';
    if (expected === 'any2xx') {
      const ok = response.status >= 200 && response.status < 300;
      this.rows.push({ step, status: response.status, ms, ok, ...(!ok && { problem: `expected 2xx, got ${response.status}${detail}` }) });
    } else {
      const ok = response.status === 401;
      const why = response.status >= 200 && response.status < 300 ? ': the endpoint must refuse this token' : detail;
      this.rows.push({ step, status: response.status, ms, ok, ...(!ok && { problem: `expected 401, got ${response.status}${why}` }) });
      if (!ok && url !== this.options.url) this.explain(response, url);
    }
    return response;
  }

  /** Hints for the usual reasons a valid FIT is refused, or an endpoint is not where it was looked for. */
  private explain(response: Pick<HttpCallResponse, 'status' | 'body'> | undefined, url: string = this.options.url): void {
    if (response === undefined) return;
    const type = (response.body as { type?: unknown } | null)?.type;
    if (type === 'forge/unknown-app') {
      this.hint(`The app is not configured with Forge app id ${this.options.appId}: set it as forge.appId of the app (example: FORGE_APP_ID_JIRA=${this.options.appId}).`);
    } else if (type === 'forge/jwks-unavailable' || (type === 'forge/unknown-kid' && this.host.jwks.fetches() === 0)) {
      this.hint(`The app does not use this simulator's keys: start it with FORGE_JWKS_URL=${this.jwksUrl} (forge.jwksUrl), e.g. with --forge-jwks-port to keep the port.`);
    } else if (type === 'forge/unknown-kid') {
      this.hint(
        'The app still has the keys of an earlier simulator run: it refetches the JWKS for a new key at most once per forge.jwksCooldownMs (default 30 s). Run again after that, or restart the app.',
      );
    } else if (type === 'forge/event-failed') {
      this.hint(`A Forge event handler failed at ${url} (also on the redelivery): its error is in the app's log.`);
    } else if (response.status === 404 && url === this.options.url) {
      this.hint(`Nothing answers ${url}: is the path of the @ForgeAuth() route right?`);
    } else if (response.status === 404) {
      this.hint(
        `Nothing answers the Forge events at ${this.options.eventsUrl}: the framework serves them at <app basePath>/forge/events (forgeEvents.path) for each app with forge.appId; give the right path with --forge-events-path.`,
      );
    }
  }
}

/** ` (forge/…)` from an error body, or nothing. */
function typeDetail(body: unknown): string {
  const type = (body as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? ` (${type})` : '';
}

function describeAttempt(attempt: ForgeDeliveryAttempt): string {
  if (attempt.status === 'timeout') return 'timeout';
  if (attempt.status === 'network-error') return 'no answer';
  return `${attempt.status}${typeDetail(attempt.body)}`;
}

/** What the framework's event endpoint said it did: `done, 1 handler`, `duplicate`, `accepted: …`; nothing for another body. */
function answerNote(body: unknown): string | undefined {
  const { status, handlers } = (body ?? {}) as { status?: unknown; handlers?: unknown };
  if (typeof handlers !== 'number') return undefined;
  if (status === 'done') return `done, ${handlers} handler${handlers === 1 ? '' : 's'}`;
  if (status === 'accepted') return `accepted: ${handlers} handler${handlers === 1 ? '' : 's'} still running at the deadline`;
  if (status === 'duplicate') return 'duplicate: the handlers had run already';
  return undefined;
}
