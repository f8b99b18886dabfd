import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost, type AbstractHttpAdapter } from '@nestjs/core';
import { ConnectAppRegistry } from '../config/connect-app-registry.js';
import { RESOLVED_CONNECT_OPTIONS } from '../config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from '../config/resolved-connect-options.js';
import type { ResolvedConnectApp } from '../config/resolved-connect-app.js';
import { ConnectError } from '../errors/connect-error.js';
import { lifecycleBodyFailure, postLifecycleRoutes, type RouteHandler } from '../http/lifecycle-body-errors.js';
import { sendConnectError } from '../http/send-connect-error.js';
import { jsonDepthExceeds } from '../lifecycle/json-depth.js';
import { reasonOf } from '../util/error-reason.js';
import { FORGE_INSTALLED_EVENT, FORGE_UPGRADED_EVENT, type ForgeEventContext, type ForgeEventKind } from './forge-event.js';
import { forgeEventDedupeKey, parseForgeEventBody, type ParsedForgeEvent } from './forge-event-body.js';
import { ForgeEventHandlers } from './forge-event-handlers.js';
import { ForgeEventLedger } from './forge-event-ledger.js';
import { ForgeInstallations } from './forge-installations.js';
import { createForgeInvocationContext } from './forge-invocation-context.js';
import { groupForgeRoutes, verifyForgeRouteCall } from './forge-served-routes.js';
import { ForgeTokenVerifier, type VerifiedForgeInvocation } from './forge-token-verifier.js';

/** The sub-path of each kind under `forgeEvents.path`. */
export const FORGE_EVENT_SUBPATHS: Readonly<Record<ForgeEventKind, string>> = Object.freeze({ event: '', scheduled: '/scheduled', 'pre-uninstall': '/pre-uninstall' });

/** preUninstall may run for about 55 s; the answer goes out before Forge gives up. */
const PRE_UNINSTALL_DEADLINE_MS = 50_000;
/** A scheduled trigger fires every 5 minutes at most: a longer dedupe window would swallow real runs. */
const SCHEDULED_DEDUPE_WINDOW_SECONDS = 240;
/** How long shutdown waits for handlers still running after their answer was sent. */
const SHUTDOWN_WAIT_MS = 10_000;

/** What the endpoint answers (Forge only looks at the status). */
interface EventAnswer {
  readonly status: 200 | 202;
  readonly body: { status: 'done' | 'accepted' | 'duplicate'; handlers: number };
}

/**
 * Serves the endpoints Forge posts events and triggers to (`forgeEvents.path` under each Forge app's
 * base path): verifies the Forge Invocation Token (typed 401 `forge/*`), reads the body (typed 400
 * `forge/invalid-event`), records the installation (installed/upgraded write it at once and seed its
 * system token; preUninstall marks it uninstalled), claims the delivery in `connect_forge_event` so a
 * redelivery runs the handlers once, then runs the matching handlers side by side. The answer goes out
 * when they finish (200), at `forgeEvents.deadlineMs` while they keep running (202), or, when one fails
 * in time, as a 500 `forge/event-failed` so Forge delivers again.
 */
@Injectable()
export class ForgeEventRoutes implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ForgeEvents');
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly registry: ConnectAppRegistry,
    private readonly verifier: ForgeTokenVerifier,
    private readonly installations: ForgeInstallations,
    private readonly ledger: ForgeEventLedger,
    private readonly handlers: ForgeEventHandlers,
    @Inject(RESOLVED_CONNECT_OPTIONS) private readonly options: ResolvedConnectOptions,
  ) {}

  /** The three paths of an app (`undefined` when it takes no Forge calls or the endpoints are off). */
  pathsOf(app: ResolvedConnectApp): Record<ForgeEventKind, string> | undefined {
    const path = this.options.forgeEvents.path;
    if (path === false || app.forgeAppId === undefined) return undefined;
    const base = `${app.basePath}${path}`;
    return { event: base + FORGE_EVENT_SUBPATHS.event, scheduled: base + FORGE_EVENT_SUBPATHS.scheduled, 'pre-uninstall': base + FORGE_EVENT_SUBPATHS['pre-uninstall'] };
  }

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter) return;
    const routes = groupForgeRoutes(this.registry.apps, (app) => this.pathsOf(app));
    if (routes.size === 0) return;
    const handlers: { path: string; handler: RouteHandler }[] = [...routes].map(([path, { kind, apps }]) => ({
      path,
      handler: (request, response) => this.serve(adapter, kind, apps, request, response),
    }));
    postLifecycleRoutes(adapter, handlers, eventBodyFailure);
    this.logger.log(`Forge events served at ${[...routes.keys()].join(', ')}.`);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.running]), new Promise((resolve) => (timer = setTimeout(resolve, SHUTDOWN_WAIT_MS).unref()))]);
    clearTimeout(timer);
  }

  private async serve(adapter: AbstractHttpAdapter, kind: ForgeEventKind, apps: ResolvedConnectApp[], request: unknown, response: unknown): Promise<void> {
    let realm = apps.length === 1 ? apps[0]!.key : 'forge';
    try {
      const { verified, tokens } = await verifyForgeRouteCall(adapter, request, apps, this.verifier, this.options.maxRequestHeaders, 'Forge events');
      realm = verified.app.key;
      const body = (request as { body?: unknown }).body;
      if (jsonDepthExceeds(body, this.options.maxLifecycleJsonDepth)) throw ConnectError.create('forge/invalid-event', 'The Forge event body nests too deep.');
      const event = parseForgeEventBody(kind, body);
      await this.record(verified, event, tokens.systemToken);
      const answer = await this.dispatch(verified, event, createForgeInvocationContext(verified, tokens));
      adapter.setHeader(response, 'cache-control', 'no-store');
      adapter.reply(response, answer.body, answer.status);
    } catch (error) {
      if (error instanceof ConnectError) error.realm = realm;
      sendConnectError(adapter, response, error, realm);
    }
  }

  /** The framework's own part: the installation record (before any handler, so handlers see it). */
  private async record(verified: VerifiedForgeInvocation, event: ParsedForgeEvent, systemToken: string | undefined): Promise<void> {
    if (event.eventType === FORGE_INSTALLED_EVENT || event.eventType === FORGE_UPGRADED_EVENT) {
      await this.installations.recordLifecycleEvent(verified, systemToken, event.eventType === FORGE_INSTALLED_EVENT ? 'installed' : 'upgraded');
      return;
    }
    await this.installations.observe(verified, systemToken);
    if (event.kind === 'pre-uninstall') await this.installations.markUninstalled(verified.app.key, verified.installationId);
  }

  private async dispatch(verified: VerifiedForgeInvocation, event: ParsedForgeEvent, forge: ForgeEventContext['forge']): Promise<EventAnswer> {
    const { app, installationId } = verified;
    const hooks = this.handlers.matching({ kind: event.kind, app, eventType: event.eventType, moduleKey: event.moduleKey });
    if (hooks.length === 0) {
      if (event.kind === 'pre-uninstall' && this.installations.enabled) await this.installations.dropSystemToken(app.key, installationId);
      return { status: 200, body: { status: 'done', handlers: 0 } };
    }
    const dedupeKey = forgeEventDedupeKey(event, installationId);
    const { dedupeWindowSeconds, claimTimeoutSeconds, deadlineMs } = this.options.forgeEvents;
    const claim = await this.ledger.claim({
      appKey: app.key,
      dedupeKey,
      kind: event.kind,
      eventType: event.eventType,
      installationId,
      windowSeconds: event.kind === 'scheduled' ? Math.min(dedupeWindowSeconds, SCHEDULED_DEDUPE_WINDOW_SECONDS) : dedupeWindowSeconds,
      claimTimeoutSeconds,
    });
    const what = describe(event, app.key, installationId);
    if (claim.outcome === 'duplicate') {
      this.logger.log(`${what}: delivered again after its handlers finished; nothing run.`);
      return { status: 200, body: { status: 'duplicate', handlers: 0 } };
    }
    if (claim.outcome === 'in-progress') {
      throw ConnectError.create('forge/event-in-progress', 'This event’s handlers are running on another delivery; Forge will deliver it again.');
    }
    const pending = hooks.filter((hook) => !claim.doneHandlers.includes(hook.name));
    const answerBy = new Date(Date.now() + (event.kind === 'pre-uninstall' ? PRE_UNINSTALL_DEADLINE_MS : deadlineMs));
    const context: ForgeEventContext = Object.freeze({
      kind: event.kind,
      app,
      eventType: event.eventType,
      moduleKey: event.moduleKey,
      payload: event.payload,
      retryContext: event.retryContext,
      attempt: claim.attempt,
      installation: this.installations.enabled ? await this.installations.get(app.key, installationId) : null,
      forge,
      answerBy,
    });
    const finished = this.runAll(pending, context, claim.doneHandlers, dedupeKey, what);
    this.running.add(finished);
    void finished.finally(() => this.running.delete(finished));
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([finished, new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), answerBy.getTime() - Date.now())))]);
    clearTimeout(timer);
    if (outcome === 'deadline') {
      this.logger.warn(`${what}: handlers still running at the deadline; answered 202, they carry on.`);
      return { status: 202, body: { status: 'accepted', handlers: pending.length } };
    }
    if (outcome.failed.length > 0) {
      throw ConnectError.create('forge/event-failed', `The handler ${outcome.failed.join(', ')} failed; Forge will deliver the event again.`);
    }
    return { status: 200, body: { status: 'done', handlers: pending.length } };
  }

  /** Runs the handlers side by side, then records which finished; never rejects. */
  private async runAll(
    hooks: ReturnType<ForgeEventHandlers['matching']>,
    context: ForgeEventContext,
    alreadyDone: readonly string[],
    dedupeKey: string,
    what: string,
  ): Promise<{ failed: string[] }> {
    const results = await Promise.allSettled(hooks.map((hook) => Promise.resolve().then(() => hook.run(context))));
    const failed: string[] = [];
    const done = [...alreadyDone];
    results.forEach((result, index) => {
      const name = hooks[index]!.name;
      if (result.status === 'fulfilled') {
        done.push(name);
        return;
      }
      failed.push(name);
      const reason: unknown = result.reason;
      this.logger.error(`${what}: handler ${name} failed (attempt ${context.attempt}).`, reason instanceof Error ? reason.stack : String(reason));
    });
    try {
      await this.ledger.finish(context.app.key, dedupeKey, failed.length > 0 ? 'failed' : 'done', done);
      if (context.kind === 'pre-uninstall' && this.installations.enabled) await this.installations.dropSystemToken(context.app.key, context.forge.installationId);
    } catch (error) {
      this.logger.warn(`${what}: could not record how the handlers ended (${reasonOf(error)}); a redelivery may run them again.`);
    }
    return { failed };
  }
}

function describe(event: ParsedForgeEvent, appKey: string, installationId: string): string {
  const name = event.kind === 'event' ? event.eventType : event.kind === 'scheduled' ? `scheduled trigger ${event.moduleKey ?? '(no key)'}` : 'preUninstall';
  return `Forge ${name} for ${appKey} ${installationId}`;
}

/** Body parser failures on the event paths, as `forge/invalid-event` (400) or the lifecycle's 413. */
function eventBodyFailure(error: unknown): ConnectError | undefined {
  const failure = lifecycleBodyFailure(error);
  if (failure === undefined || failure.code !== 'lifecycle/invalid-payload') return failure;
  return ConnectError.create('forge/invalid-event', 'The Forge event body is not valid JSON.');
}
