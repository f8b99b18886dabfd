import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { decodeJwt } from 'jose';
import type { DataSource } from 'typeorm';
import { CONNECT_DEFAULTS } from '../config/connect-defaults.js';
import { RESOLVED_CONNECT_OPTIONS } from '../config/resolve-connect-options.js';
import type { ResolvedConnectOptions } from '../config/resolved-connect-options.js';
import { InjectConnectDataSource } from '../database/connect-data-source.constants.js';
import { storeUnavailable } from '../database/store-unavailable.js';
import { systemTokenOwner } from '../database/system-token-owner.js';
import { boundSecretCipher, type SecretCipher } from '../database/secret-cipher.js';
import { ConnectError } from '../errors/connect-error.js';
import { reasonOf } from '../util/error-reason.js';
import { LruCache } from '../util/lru-cache.js';
import type { VerifiedForgeInvocation } from './forge-token-verifier.js';

/** One Forge installation of one app, as its verified calls describe it. Plain and frozen. */
export interface ForgeInstallation {
  readonly appKey: string;
  /** `ari:cloud:ecosystem::installation/<uuid>`. Changes on a reinstall or a site URL change. */
  readonly installationId: string;
  /** The site's stable id; links a new installationId to the same site. */
  readonly cloudId: string | null;
  readonly siteUrl: string | null;
  /** Where this installation's OAuth tokens may be sent. */
  readonly apiBaseUrl: string;
  readonly product: string;
  readonly environment: { readonly type: string | null; readonly id: string | null };
  readonly appVersion: string | null;
  readonly license: { readonly isActive: boolean | null; readonly type: string | null; readonly isEvaluation: boolean | null };
  /** The Connect tenant of the same app on the same site, when known. */
  readonly connectClientKey: string | null;
  /** When the saved app system token stops being usable (`null`: none saved). The token itself is never on this object. */
  readonly systemTokenExpiresAt: Date | null;
  /** When Forge last sent `avi:forge:installed:app` for it (`null`: not seen by this backend). */
  readonly installedAt: Date | null;
  /** When Forge last sent `avi:forge:upgraded:app` for it. */
  readonly upgradedAt: Date | null;
  /** Set by a `preUninstall` trigger; the retention purge deletes the row `retention.uninstalledDays` later. */
  readonly uninstalledAt: Date | null;
  readonly firstSeenAt: Date;
  readonly lastSeenAt: Date;
}

/** Options of `ForgeInstallations.list`. */
export interface ListForgeInstallationsOptions {
  /** Only installations not marked uninstalled (`true`), only uninstalled ones (`false`), or all (default). */
  readonly active?: boolean | undefined;
  /** Rows per query (default 100, at most 1000). */
  readonly pageSize?: number | undefined;
}

/** A verified call writes its installation at most this often, unless what it says changed. */
const WRITE_INTERVAL_MS = 60_000;
/** Installations remembered for the write throttle (bounded; an evicted one is simply written again). */
const THROTTLE_ENTRIES = 10_000;
const TABLE = '"connect_forge_installation"';

const COLUMNS = `"app_key", "installation_id", "cloud_id", "site_url", "api_base_url", "product", "environment_type", "environment_id",
  "app_version", "license_active", "license_type", "license_evaluation", "connect_client_key", "system_token_expires_at",
  "installed_at", "upgraded_at", "uninstalled_at", "first_seen_at", "last_seen_at"`;

interface InstallationRow {
  app_key: string;
  installation_id: string;
  cloud_id: string | null;
  site_url: string | null;
  api_base_url: string;
  product: string;
  environment_type: string | null;
  environment_id: string | null;
  app_version: string | null;
  license_active: boolean | null;
  license_type: string | null;
  license_evaluation: boolean | null;
  connect_client_key: string | null;
  system_token_expires_at: Date | string | null;
  installed_at: Date | string | null;
  upgraded_at: Date | string | null;
  uninstalled_at: Date | string | null;
  first_seen_at: Date | string;
  last_seen_at: Date | string;
}

const date = (value: Date | string | null): Date | null => (value === null ? null : value instanceof Date ? value : new Date(value));

function toInstallation(row: InstallationRow): ForgeInstallation {
  return Object.freeze({
    appKey: row.app_key,
    installationId: row.installation_id,
    cloudId: row.cloud_id,
    siteUrl: row.site_url,
    apiBaseUrl: row.api_base_url,
    product: row.product,
    environment: Object.freeze({ type: row.environment_type, id: row.environment_id }),
    appVersion: row.app_version,
    license: Object.freeze({ isActive: row.license_active, type: row.license_type, isEvaluation: row.license_evaluation }),
    connectClientKey: row.connect_client_key,
    systemTokenExpiresAt: date(row.system_token_expires_at),
    installedAt: date(row.installed_at),
    upgradedAt: date(row.upgraded_at),
    uninstalledAt: date(row.uninstalled_at),
    firstSeenAt: date(row.first_seen_at)!,
    lastSeenAt: date(row.last_seen_at)!,
  });
}

/** The longest a saved token is trusted, whatever its own `exp` says. */
const MAX_SYSTEM_TOKEN_LIFETIME_MS = 24 * 3600 * 1000;

/**
 * When a system token stops being usable: its own `exp` when it is a JWT with one (at most a day
 * away), else `lifetimeSeconds` from now (`forge.systemTokenLifetimeSeconds`).
 */
export function systemTokenExpiry(token: string, nowMs: number, lifetimeSeconds: number = CONNECT_DEFAULTS.forge.systemTokenLifetimeSeconds): Date {
  let exp: unknown;
  try {
    exp = decodeJwt(token).exp;
  } catch {
    exp = undefined;
  }
  const fallback = nowMs + lifetimeSeconds * 1000;
  return new Date(typeof exp === 'number' && Number.isFinite(exp) ? Math.min(exp * 1000, nowMs + MAX_SYSTEM_TOKEN_LIFETIME_MS) : fallback);
}

export { systemTokenOwner };

/**
 * The Forge installations of this process's apps, kept current from every verified Forge Invocation
 * Token (`@ForgeAuth()` records them): site, product, environment, version, licence, the linked Connect
 * tenant, and the latest app system token (`x-forge-oauth-system`), encrypted at rest with the same
 * cipher and keys as the shared secrets, for work outside a request (`ConnectClient.asForgeApp`).
 * User tokens are never stored.
 *
 * A call writes its installation at most once a minute, unless what it says (or its token) changed.
 * Reads always go to the database, so what one instance saved is visible to the others at once.
 *
 * @example
 * ```ts
 * for await (const installation of this.installations.list('com.example.jira', { active: true })) {
 *   await this.client.asForgeApp(installation).get('/rest/api/3/myself');
 * }
 * ```
 */
@Injectable()
export class ForgeInstallations {
  private readonly logger = new Logger('ForgeInstallations');
  private readonly written = new LruCache<string, { fingerprint: string; at: number }>(THROTTLE_ENTRIES);

  private readonly tokenLifetimeSeconds: number;
  private readonly tokenSafetyMarginMs: number;

  /** `options` gives `forge.systemTokenLifetimeSeconds` and `forge.systemTokenSafetyMarginSeconds` (default `CONNECT_DEFAULTS.forge`). */
  constructor(
    @InjectConnectDataSource() private readonly dataSource: DataSource,
    @Inject(RESOLVED_CONNECT_OPTIONS) options?: Pick<ResolvedConnectOptions, 'forge'>,
  ) {
    const timing = options?.forge ?? CONNECT_DEFAULTS.forge;
    this.tokenLifetimeSeconds = timing.systemTokenLifetimeSeconds;
    this.tokenSafetyMarginMs = timing.systemTokenSafetyMarginSeconds * 1000;
  }

  /** Whether installations are kept: the framework's database is open (not with an app's own `tenantStore`). */
  get enabled(): boolean {
    return this.dataSource.isInitialized;
  }

  /** The installation, or `null` when no verified call of it was seen. */
  async get(appKey: string, installationId: string): Promise<ForgeInstallation | null> {
    const rows = await this.query<InstallationRow>(`SELECT ${COLUMNS} FROM ${TABLE} WHERE "app_key" = $1 AND "installation_id" = $2`, [appKey, installationId]);
    return rows[0] === undefined ? null : toInstallation(rows[0]);
  }

  /** Every installation of `appKey` on the site `cloudId`, the most recently seen first. */
  async byCloudId(appKey: string, cloudId: string): Promise<ForgeInstallation[]> {
    const rows = await this.query<InstallationRow>(
      `SELECT ${COLUMNS} FROM ${TABLE} WHERE "app_key" = $1 AND "cloud_id" = $2 ORDER BY ("uninstalled_at" IS NULL) DESC, "last_seen_at" DESC, "installation_id"`,
      [appKey, cloudId],
    );
    return rows.map(toInstallation);
  }

  /** The installations of `appKey`, page by page (keyset paging on installationId: stable under concurrent writes). */
  async *list(appKey: string, options: ListForgeInstallationsOptions = {}): AsyncGenerator<ForgeInstallation> {
    const pageSize = options.pageSize ?? 100;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw ConnectError.create('config/invalid', 'list() takes a pageSize between 1 and 1000.');
    const filter = options.active === undefined ? '' : options.active ? 'AND "uninstalled_at" IS NULL' : 'AND "uninstalled_at" IS NOT NULL';
    let after = '';
    for (;;) {
      const rows = await this.query<InstallationRow>(
        `SELECT ${COLUMNS} FROM ${TABLE} WHERE "app_key" = $1 AND "installation_id" > $2 ${filter} ORDER BY "installation_id" LIMIT $3`,
        [appKey, after, pageSize],
      );
      for (const row of rows) yield toInstallation(row);
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1]!.installation_id;
    }
  }

  /**
   * The saved app system token of the installation when it is still usable (more than
   * `forge.systemTokenSafetyMarginSeconds` before its expiry), else `undefined`. A secret: hand it only
   * to the client (`ConnectClient.asForgeApp` does this).
   */
  async systemTokenOf(
    appKey: string,
    installationId: string,
    nowMs = Date.now(),
  ): Promise<{ token: string; expiresAt: Date; apiBaseUrl: string } | { token: undefined; expiresAt: Date | null; apiBaseUrl: string } | null> {
    const rows = await this.query<{ system_token: string | null; system_token_expires_at: Date | string | null; api_base_url: string }>(
      `SELECT "system_token", "system_token_expires_at", "api_base_url" FROM ${TABLE} WHERE "app_key" = $1 AND "installation_id" = $2`,
      [appKey, installationId],
    );
    const row = rows[0];
    if (row === undefined) return null;
    const expiresAt = date(row.system_token_expires_at);
    if (row.system_token === null || expiresAt === null || expiresAt.getTime() - this.tokenSafetyMarginMs <= nowMs) {
      return { token: undefined, expiresAt, apiBaseUrl: row.api_base_url };
    }
    let token: string;
    try {
      token = this.cipher().decrypt(row.system_token, systemTokenOwner(appKey, installationId));
    } catch (error) {
      // Encrypted with a key that is no longer configured, or altered: as good as no token.
      this.logger.warn(`The saved system token of ${appKey} ${installationId} cannot be decrypted (${reasonOf(error)}); it is ignored.`);
      return { token: undefined, expiresAt, apiBaseUrl: row.api_base_url };
    }
    return { token, expiresAt, apiBaseUrl: row.api_base_url };
  }

  /** Forgets the saved system token (the product refused it). */
  async dropSystemToken(appKey: string, installationId: string): Promise<void> {
    this.written.delete(`${appKey}\n${installationId}`);
    await this.query(`UPDATE ${TABLE} SET "system_token" = NULL, "system_token_expires_at" = NULL WHERE "app_key" = $1 AND "installation_id" = $2`, [appKey, installationId]);
  }

  /**
   * Records what a verified call says about its installation (and saves its system token). Writes at
   * most once a minute per installation unless something changed; never throws: a failure is logged and
   * the call goes on (the next one writes again).
   */
  async observe(invocation: VerifiedForgeInvocation, systemToken: string | undefined, nowMs = Date.now()): Promise<void> {
    if (!this.enabled) return;
    const key = `${invocation.app.key}\n${invocation.installationId}`;
    const facts = [
      invocation.cloudId,
      invocation.siteUrl,
      invocation.apiBaseUrl,
      invocation.environment.type,
      invocation.environment.id,
      invocation.appVersion,
      invocation.license?.isActive,
      invocation.license?.type,
      invocation.license?.isEvaluation,
      systemToken === undefined ? '' : createHash('sha256').update(systemToken).digest('base64url'),
    ];
    const fingerprint = JSON.stringify(facts);
    const last = this.written.get(key);
    if (last !== undefined && last.fingerprint === fingerprint && nowMs - last.at < WRITE_INTERVAL_MS) return;
    try {
      await this.upsert(invocation, systemToken, nowMs);
      this.written.set(key, { fingerprint, at: nowMs });
    } catch (error) {
      this.logger.warn(`Could not record the Forge installation ${invocation.installationId} of ${invocation.app.key}: ${reasonOf(error)}.`);
    }
  }

  /**
   * What a Forge lifecycle event (`avi:forge:installed:app` / `avi:forge:upgraded:app`) says: written at
   * once (no throttle), its time stamped, and its system token saved. Unlike `observe`, a failure rejects
   * (`store/unavailable`): the event is answered 5xx and Forge delivers it again.
   */
  async recordLifecycleEvent(invocation: VerifiedForgeInvocation, systemToken: string | undefined, event: 'installed' | 'upgraded', nowMs = Date.now()): Promise<void> {
    if (!this.enabled) return;
    await this.upsert(invocation, systemToken, nowMs);
    const column = event === 'installed' ? '"installed_at"' : '"upgraded_at"';
    await this.query(`UPDATE ${TABLE} SET ${column} = now() WHERE "app_key" = $1 AND "installation_id" = $2`, [invocation.app.key, invocation.installationId]);
    this.written.delete(`${invocation.app.key}\n${invocation.installationId}`);
  }

  /**
   * Marks the installation uninstalled (a `preUninstall` trigger). Its saved system token stays for the
   * preUninstall handlers, which may still call the product; the events endpoint drops it once they
   * finished (`dropSystemToken`). The retention purge deletes the row later, after the app's
   * `@OnPurge()` hooks. Rejects with `store/unavailable` when the database cannot answer.
   */
  async markUninstalled(appKey: string, installationId: string): Promise<void> {
    if (!this.enabled) return;
    this.written.delete(`${appKey}\n${installationId}`);
    await this.query(`UPDATE ${TABLE} SET "uninstalled_at" = COALESCE("uninstalled_at", now()) WHERE "app_key" = $1 AND "installation_id" = $2`, [appKey, installationId]);
  }

  /** Records the Connect tenant of an installation (a signed Connect install that named it). */
  async linkConnectTenant(appKey: string, installationId: string, clientKey: string): Promise<void> {
    if (!this.enabled) return;
    await this.query(`UPDATE ${TABLE} SET "connect_client_key" = $3 WHERE "app_key" = $1 AND "installation_id" = $2`, [appKey, installationId, clientKey]);
  }

  private async upsert(invocation: VerifiedForgeInvocation, systemToken: string | undefined, nowMs: number): Promise<void> {
    const { app, installationId } = invocation;
    const token = systemToken === undefined ? null : this.cipher().encrypt(systemToken, systemTokenOwner(app.key, installationId));
    const expiresAt = systemToken === undefined ? null : systemTokenExpiry(systemToken, nowMs, this.tokenLifetimeSeconds);
    // A call without a system token keeps the saved one. The Connect tenant is the one whose signed
    // install named this installation, else the one linked to another installation of the same site
    // (cloudId): a reinstall or a site URL change brings a new installationId, not a new site.
    await this.query(
      `INSERT INTO ${TABLE} AS "existing" ("app_key", "installation_id", "cloud_id", "site_url", "api_base_url", "product", "environment_type",
         "environment_id", "app_version", "license_active", "license_type", "license_evaluation", "system_token", "system_token_expires_at",
         "connect_client_key")
       VALUES ($1::varchar, $2::varchar, $3::varchar, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, COALESCE(
         (SELECT "client_key" FROM "connect_tenant" WHERE "app_key" = $1::varchar AND "installation_id" = $2::varchar AND "uninstalled_at" IS NULL
          ORDER BY "installed_at" DESC LIMIT 1),
         (SELECT "connect_client_key" FROM ${TABLE} WHERE "app_key" = $1::varchar AND "cloud_id" = $3::varchar AND "connect_client_key" IS NOT NULL
          ORDER BY "last_seen_at" DESC LIMIT 1)))
       ON CONFLICT ("app_key", "installation_id") DO UPDATE SET
         "cloud_id" = COALESCE(EXCLUDED."cloud_id", "existing"."cloud_id"),
         "site_url" = COALESCE(EXCLUDED."site_url", "existing"."site_url"),
         "api_base_url" = EXCLUDED."api_base_url",
         "environment_type" = EXCLUDED."environment_type",
         "environment_id" = EXCLUDED."environment_id",
         "app_version" = COALESCE(EXCLUDED."app_version", "existing"."app_version"),
         "license_active" = EXCLUDED."license_active",
         "license_type" = EXCLUDED."license_type",
         "license_evaluation" = EXCLUDED."license_evaluation",
         "system_token" = COALESCE(EXCLUDED."system_token", "existing"."system_token"),
         "system_token_expires_at" = CASE WHEN EXCLUDED."system_token" IS NULL THEN "existing"."system_token_expires_at" ELSE EXCLUDED."system_token_expires_at" END,
         "connect_client_key" = COALESCE(EXCLUDED."connect_client_key", "existing"."connect_client_key"),
         "uninstalled_at" = NULL,
         "last_seen_at" = now()`,
      [
        app.key,
        installationId,
        invocation.cloudId ?? null,
        invocation.siteUrl ?? null,
        invocation.apiBaseUrl,
        app.product,
        invocation.environment.type ?? null,
        invocation.environment.id ?? null,
        invocation.appVersion ?? null,
        invocation.license?.isActive ?? null,
        invocation.license?.type ?? null,
        invocation.license?.isEvaluation ?? null,
        token,
        expiresAt,
      ],
    );
  }

  private cipher(): SecretCipher {
    const cipher = boundSecretCipher(this.dataSource);
    if (cipher === undefined) throw ConnectError.create('store/unavailable', 'The Forge installations have no secret cipher: the database is not the framework’s own.');
    return cipher;
  }

  private async query<T>(sql: string, parameters: unknown[]): Promise<T[]> {
    if (!this.dataSource.isInitialized) {
      throw ConnectError.create('config/invalid', 'Forge installations are kept in the framework’s database, which is not open (an app-provided tenantStore is configured).');
    }
    try {
      return (await this.dataSource.query(sql, parameters)) as T[];
    } catch (error) {
      throw storeUnavailable(error, 'The Forge installation store');
    }
  }
}
