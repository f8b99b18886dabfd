import { randomUUID } from 'node:crypto';
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
}

export interface ForgeRemoteReport {
  ok: boolean;
  rows: StepResult[];
  hints: string[];
}

/**
 * Forge calling a Forge Remote endpoint: a JWKS server with a fresh RSA key (start it first, so the app
 * can be pointed at it), then an invocation with a valid FIT and the OAuth token headers, and three that
 * must be refused with 401: no token, a FIT for another app (wrong aud), an expired FIT.
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
    const valid = await this.step(`forge remote ${method} (valid FIT)`, 'any2xx', {
      method,
      token: { principal },
      systemToken: 'simulated-forge-system-token',
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
    await this.step('forge remote: no token (must fail)', 401, { method, fit: null });
    await this.step('forge remote: wrong aud (must fail)', 401, { method, token: { appId: randomUUID(), principal } });
    await this.step('forge remote: expired FIT (must fail)', 401, { method, token: { principal, expiresIn: -600, issuedAt: -900, notBefore: -900 } });
    return { ok: this.rows.every((row) => row.ok), rows: this.rows, hints: this.hints };
  }

  async close(): Promise<void> {
    await this.host.close();
  }

  private async step(step: string, expected: 'any2xx' | 401, options: ForgeInvokeOptions): Promise<HttpCallResponse | undefined> {
    const started = performance.now();
    let response: HttpCallResponse;
    try {
      response = await this.host.invoke(this.options.url, options);
    } catch (error) {
      this.rows.push({ step, ok: false, problem: `no answer from ${this.options.url}: ${error instanceof Error ? error.message : String(error)}` });
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
      this.rows.push({ step, status: response.status, ms, ok, ...(!ok && { problem: `expected 401, got ${response.status}: the endpoint must refuse this token` }) });
    }
    return response;
  }

  /** Hints for the usual reasons a valid FIT is refused. */
  private explain(response: HttpCallResponse | undefined): void {
    if (response === undefined) return;
    const type = (response.body as { type?: unknown } | null)?.type;
    if (type === 'forge/unknown-app') {
      this.hints.push(`The app is not configured with Forge app id ${this.options.appId}: set it as forge.appId of the app (example: FORGE_APP_ID_JIRA=${this.options.appId}).`);
    } else if (type === 'forge/jwks-unavailable' || (type === 'forge/unknown-kid' && this.host.jwks.fetches() === 0)) {
      this.hints.push(`The app does not use this simulator's keys: start it with FORGE_JWKS_URL=${this.jwksUrl} (forge.jwksUrl), e.g. with --forge-jwks-port to keep the port.`);
    } else if (type === 'forge/unknown-kid') {
      this.hints.push(
        'The app still has the keys of an earlier simulator run: it refetches the JWKS for a new key at most once per forge.jwksCooldownMs (default 30 s). Run again after that, or restart the app.',
      );
    } else if (response.status === 404) {
      this.hints.push(`Nothing answers ${this.options.url}: is the path of the @ForgeAuth() route right?`);
    }
  }
}
