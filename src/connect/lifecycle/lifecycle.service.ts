import { Inject, Injectable, Logger } from '@nestjs/common';
import type { LifecycleEventName, ResolvedConnectApp } from '../config/resolved-connect-app.js';
import { ConnectTokenVerifier, type IncomingRequest } from '../auth/jwt/connect-token-verifier.js';
import { InstallTokenVerifier } from '../auth/jwt/install-token-verifier.js';
import { ConnectError } from '../errors/connect-error.js';
import type { ConnectTenant } from '../tenants/tenant.js';
import { TENANT_STORE, type TenantStore } from '../tenants/tenant-store.js';
import { ForgeInstallations } from '../forge/forge-installations.js';
import { reasonOf } from '../util/error-reason.js';
import { LifecycleHookError, LifecycleHookRegistry } from './lifecycle-hook-registry.js';
import { assertLifecycleHostsAllowed } from './lifecycle-hosts.js';
import { parseLifecyclePayload, type LifecyclePayload } from './lifecycle-payload.js';

/**
 * Carries out the four lifecycle callbacks: verify the token (RS256 signed install for `installed`
 * and `uninstalled`, HS256 with the stored secret for `enabled` and `disabled`), validate the body,
 * write the tenant and run the app's hooks.
 */
@Injectable()
export class LifecycleService {
  private readonly logger = new Logger('ConnectLifecycle');

  constructor(
    private readonly installTokens: InstallTokenVerifier,
    private readonly connectTokens: ConnectTokenVerifier,
    private readonly hooks: LifecycleHookRegistry,
    @Inject(TENANT_STORE) private readonly tenants: TenantStore,
    private readonly forgeInstallations: ForgeInstallations,
  ) {}

  async handle(event: LifecycleEventName, app: ResolvedConnectApp, request: IncomingRequest, body: unknown): Promise<void> {
    // The site URLs are checked before the token: the signature covers the request line, not the body
    // (a captured signed install replayed with another baseUrl still verifies), and a payload from a
    // foreign host is refused without an install-key fetch or a tenant lookup.
    this.checkHosts(event, app, body);
    if (event === 'installed' || event === 'uninstalled') {
      const input = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
      // The baseUrl picks the key hosts of the site's environment; it passed checkHosts() above.
      await this.installTokens.verify(app, request, input.clientKey, { baseUrl: typeof input.baseUrl === 'string' ? input.baseUrl : undefined });
    } else {
      const verified = await this.connectTokens.verify(app, request, { allowContextQsh: false, allowInactiveTenant: true });
      const clientKey = (body as Record<string, unknown> | null)?.clientKey;
      if (clientKey !== verified.clientKey) {
        throw ConnectError.create('jwt/iss-mismatch', 'The JWT issuer (iss) is not the clientKey of the payload.', { app: app.key });
      }
    }
    const { payload, installation } = parseLifecyclePayload(app, event, body);

    if (installation) {
      // Connect on Forge sends no `enabled` after a signed `installed`: a tenant disabled before the switch must not stay refused.
      const enable = app.forgeAppId !== undefined || installation.installationId !== null;
      await this.tenants.install(installation, (tenant, { previous, transaction }) => this.runHooks({ event, app, tenant, previous, payload, transaction }), { enable });
      this.logger.log(`${app.key} installed on ${installation.baseUrl} (clientKey ${installation.clientKey}).`);
      if (installation.installationId !== null) {
        // The Forge installation record (when one was seen) keeps the link, so a later installationId of the same site finds this tenant.
        await this.forgeInstallations.linkConnectTenant(app.key, installation.installationId, installation.clientKey).catch((error: unknown) => {
          this.logger.warn(`Could not link the Forge installation ${installation.installationId} to ${installation.clientKey}: ${reasonOf(error)}.`);
        });
      }
      return;
    }

    const change = { kind: event } as { kind: 'uninstalled' | 'enabled' | 'disabled' };
    // Refusing access must never be undone by an app's hook: uninstalled/disabled commit first.
    const hooksInside = event === 'enabled';
    const written = await this.tenants.update(app.key, payload.clientKey, change, async (tenant, { previous, transaction }) => {
      if (hooksInside) await this.runHooks({ event, app, tenant, previous, payload, transaction });
      return previous;
    });
    if (written === null) {
      this.logger.log(`${app.key}: ${event} for unknown clientKey ${payload.clientKey}; nothing to change.`);
      return;
    }
    this.logger.log(`${app.key} ${event} on ${written.tenant.baseUrl} (clientKey ${payload.clientKey}).`);
    if (!hooksInside) {
      await this.runHooks({ event, app, tenant: written.tenant, previous: written.result, payload, transaction: undefined });
    }
  }

  private checkHosts(event: LifecycleEventName, app: ResolvedConnectApp, body: unknown): void {
    try {
      assertLifecycleHostsAllowed(app, body);
    } catch (error) {
      if (error instanceof ConnectError) this.logger.warn(`${app.key}: refused ${event}: ${error.message}`);
      throw error;
    }
  }

  private async runHooks(event: {
    event: LifecycleEventName;
    app: ResolvedConnectApp;
    tenant: ConnectTenant;
    previous: ConnectTenant | null;
    payload: LifecyclePayload;
    transaction: unknown;
  }): Promise<void> {
    try {
      await this.hooks.run(event);
    } catch (error) {
      if (!(error instanceof LifecycleHookError)) throw error;
      this.logger.error(`${error.message} (${event.app.key}, ${event.event}, clientKey ${event.tenant.clientKey})`, causeStack(error));
      throw ConnectError.create('lifecycle/hook-failed', `The app could not complete the ${event.event} callback.`, { hook: error.hook }, error);
    }
  }
}

function causeStack(error: LifecycleHookError): string | undefined {
  return error.cause instanceof Error ? error.cause.stack : undefined;
}
