import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost, type AbstractHttpAdapter } from '@nestjs/core';
import { ConnectAppRegistry } from '../../config/connect-app-registry.js';
import { RESOLVED_CONNECT_OPTIONS } from '../../config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from '../../config/resolved-connect-options.js';
import type { ResolvedConnectApp } from '../../config/resolved-connect-app.js';
import { ConnectError } from '../../errors/connect-error.js';
import { toErrorResponse } from '../../errors/connect-error-http.js';
import { lifecycleBodyFailure, postLifecycleRoutes, type RouteHandler } from '../../http/lifecycle-body-errors.js';
import { sendConnectError } from '../../http/send-connect-error.js';
import { jsonDepthExceeds } from '../../lifecycle/json-depth.js';
import { ForgeInstallations } from '../forge-installations.js';
import { createForgeInvocationContext } from '../forge-invocation-context.js';
import { groupForgeRoutes, verifyForgeRouteCall } from '../forge-served-routes.js';
import { ForgeTokenVerifier, type VerifiedForgeInvocation } from '../forge-token-verifier.js';
import { REALM_MIGRATION_PHASES, refuseRealmMigration, type RealmMigrationContext, type RealmMigrationPhase, type RealmMigrationStatus } from './realm-migration.js';
import { parseRealmMigrationBody, parseRealmMigrationStatusQuery, realmMigrationStatusBody, type ParsedRealmMigration } from './realm-migration-body.js';
import { RealmMigrationHandlers } from './realm-migration-handlers.js';

/** The sub-path of each hook under `forgeRealmMigration.path` (Atlassian appends them to the module's `path`). */
export const REALM_MIGRATION_SUBPATHS: Readonly<Record<RealmMigrationPhase, string>> = Object.freeze({
  schedule: '/schedule',
  start: '/start',
  status: '/status',
  commit: '/commit',
  rollback: '/rollback',
});

/** What a schedule, start, commit or rollback hook answers on success (Atlassian only reads the status). */
export interface RealmMigrationHookAnswer {
  readonly phase: Exclude<RealmMigrationPhase, 'status'>;
  readonly migrationId: string;
  /** `false`: the app has no handler for this phase, and nothing needed doing. */
  readonly handled: boolean;
}

/**
 * Serves the data residency migration hooks of every app with `forge.appId` under
 * `<basePath><forgeRealmMigration.path>`: POST `/schedule`, `/start`, `/commit`, `/rollback` and GET
 * `/status`. Each call's FIT is verified (typed 401 `forge/*`), the body or query read (typed 400
 * `forge/invalid-realm-migration`), the installation recorded, and the app's one handler of the phase
 * run; its answer is sent when it returns. A refusal (`refuseRealmMigration`) is a 409 with Atlassian's
 * `errorResponseCode`; any other failure a 500 `forge/realm-migration-failed` without one, which
 * Atlassian retries.
 */
@Injectable()
export class RealmMigrationRoutes implements OnModuleInit {
  private readonly logger = new Logger('RealmMigration');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly registry: ConnectAppRegistry,
    private readonly verifier: ForgeTokenVerifier,
    private readonly installations: ForgeInstallations,
    private readonly handlers: RealmMigrationHandlers,
    @Inject(RESOLVED_CONNECT_OPTIONS) private readonly options: ResolvedConnectOptions,
  ) {}

  /** The hook paths of an app (`undefined` when it takes no Forge calls or the hooks are off). */
  pathsOf(app: ResolvedConnectApp): Record<RealmMigrationPhase, string> | undefined {
    const path = this.options.forgeRealmMigration.path;
    if (path === false || app.forgeAppId === undefined) return undefined;
    const base = `${app.basePath}${path}`;
    return Object.fromEntries(REALM_MIGRATION_PHASES.map((phase) => [phase, base + REALM_MIGRATION_SUBPATHS[phase]])) as Record<RealmMigrationPhase, string>;
  }

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter) return;
    const routes = groupForgeRoutes(this.registry.apps, (app) => this.pathsOf(app));
    if (routes.size === 0) return;
    const posts: { path: string; handler: RouteHandler }[] = [];
    for (const [path, { kind: phase, apps }] of routes) {
      const handler: RouteHandler = (request, response) => this.serve(adapter, phase, apps, request, response);
      if (phase === 'status') adapter.get(path, handler);
      else posts.push({ path, handler });
    }
    postLifecycleRoutes(adapter, posts, migrationBodyFailure);
    this.logger.log(`Realm migration hooks served at ${[...routes.keys()].join(', ')}.`);
  }

  private async serve(adapter: AbstractHttpAdapter, phase: RealmMigrationPhase, apps: ResolvedConnectApp[], request: unknown, response: unknown): Promise<void> {
    let realm = apps.length === 1 ? apps[0]!.key : 'forge';
    try {
      const { facts, verified, tokens } = await verifyForgeRouteCall(adapter, request, apps, this.verifier, this.options.maxRequestHeaders, 'realm migrations');
      realm = verified.app.key;
      const parsed = phase === 'status' ? parseRealmMigrationStatusQuery(facts.rawUrl) : this.bodyOf(phase, (request as { body?: unknown }).body);
      await this.installations.observe(verified, tokens.systemToken);
      const answer = await this.run(verified, parsed, createForgeInvocationContext(verified, tokens));
      adapter.setHeader(response, 'cache-control', 'no-store');
      adapter.reply(response, answer, 200);
    } catch (error) {
      if (error instanceof ConnectError) error.realm = realm;
      replyFailure(adapter, response, error, realm);
    }
  }

  private bodyOf(phase: Exclude<RealmMigrationPhase, 'status'>, body: unknown): ParsedRealmMigration {
    if (jsonDepthExceeds(body, this.options.maxLifecycleJsonDepth)) throw ConnectError.create('forge/invalid-realm-migration', `The ${phase} body nests too deep.`);
    return parseRealmMigrationBody(phase, body);
  }

  private async run(
    verified: VerifiedForgeInvocation,
    parsed: ParsedRealmMigration,
    forge: RealmMigrationContext['forge'],
  ): Promise<RealmMigrationHookAnswer | RealmMigrationStatus> {
    const { app, installationId } = verified;
    const { phase } = parsed;
    const what = `Realm migration ${phase} ${parsed.migrationId ?? '(current)'} of ${app.key} ${installationId}`;
    // Without start and status nothing would move the data or say it moved: decline before the site goes offline.
    if (phase !== 'commit' && phase !== 'rollback' && !this.handlers.supports(app)) {
      this.logger.warn(`${what}: the app has no start and status handlers; declined with E0003.`);
      if (phase === 'status') return { status: 'failed', errorResponseCode: 'E0003' };
      throw refuseRealmMigration('E0003', `${app.key} has no realm migration handlers for start and status: it cannot migrate its data.`);
    }
    const handler = this.handlers.handlerOf(phase, app);
    if (handler === undefined) {
      this.logger.log(`${what}: no handler for this phase; nothing to do.`);
      return { phase: phase as RealmMigrationHookAnswer['phase'], migrationId: parsed.migrationId!, handled: false };
    }
    const installation = this.installations.enabled ? await this.installations.get(app.key, installationId) : null;
    const context = Object.freeze({ ...parsed, app, installation, forge }) as RealmMigrationContext;
    let result: unknown;
    try {
      result = await handler.run(context);
    } catch (error) {
      if (error instanceof ConnectError && error.code === 'forge/realm-migration-refused') {
        const code = refusalCodeOf(error);
        this.logger.warn(`${what}: ${handler.name} declined (${code}): ${error.message}`);
        if (phase === 'status') return { status: 'failed', errorResponseCode: code };
        throw error;
      }
      this.logger.error(`${what}: handler ${handler.name} failed.`, error instanceof Error ? error.stack : String(error));
      throw ConnectError.create('forge/realm-migration-failed', `The ${phase} handler ${handler.name} failed; Atlassian retries the hook.`);
    }
    if (phase !== 'status') {
      this.logger.log(`${what}: done by ${handler.name}.`);
      return { phase, migrationId: parsed.migrationId, handled: true };
    }
    try {
      return realmMigrationStatusBody(result, handler.name);
    } catch (error) {
      this.logger.error(`${what}: ${(error as Error).message}`);
      throw error;
    }
  }
}

function refusalCodeOf(error: ConnectError): NonNullable<RealmMigrationStatus['errorResponseCode']> {
  const code = error.detail?.errorResponseCode;
  return typeof code === 'string' && /^E\d{4}$/.test(code) ? (code as NonNullable<RealmMigrationStatus['errorResponseCode']>) : 'E9999';
}

/** A refusal carries Atlassian's `errorResponseCode` beside the typed body; everything else is answered as usual. */
function replyFailure(adapter: AbstractHttpAdapter, response: unknown, error: unknown, realm: string): void {
  if (!(error instanceof ConnectError) || error.code !== 'forge/realm-migration-refused') {
    sendConnectError(adapter, response, error, realm);
    return;
  }
  const { status, headers, body } = toErrorResponse(error, realm);
  for (const [name, value] of Object.entries(headers)) adapter.setHeader(response, name, value);
  adapter.reply(response, { ...body, errorResponseCode: refusalCodeOf(error) }, status);
}

/** Body parser failures on the hook paths, as `forge/invalid-realm-migration` (400) or the lifecycle's 413. */
function migrationBodyFailure(error: unknown): ConnectError | undefined {
  const failure = lifecycleBodyFailure(error);
  if (failure === undefined || failure.code !== 'lifecycle/invalid-payload') return failure;
  return ConnectError.create('forge/invalid-realm-migration', 'The realm migration body is not valid JSON.');
}
