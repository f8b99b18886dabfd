import type { ResolvedConnectApp, LifecycleEventName } from '../config/resolved-connect-app.js';
import { ConnectError } from '../errors/connect-error.js';
import type { TenantInstallation } from '../tenants/tenant.js';

/** The lifecycle payload the product sends, without the shared secret (safe to hand to hooks). */
export interface LifecyclePayload {
  readonly key: string;
  readonly clientKey: string;
  readonly baseUrl: string;
  readonly displayUrl?: string;
  readonly displayUrlServicedeskHelpCenter?: string;
  readonly productType: string;
  readonly description?: string;
  readonly serviceEntitlementNumber?: string;
  readonly entitlementId?: string;
  readonly entitlementNumber?: string;
  readonly oauthClientId?: string;
  readonly installationId?: string;
  readonly eventType?: string;
  readonly [extra: string]: unknown;
}

const LIMITS = {
  key: 64,
  clientKey: 255,
  sharedSecret: 512,
  url: 2048,
  description: 4096,
  id: 255,
} as const;

const OPTIONAL_IDS = ['serviceEntitlementNumber', 'entitlementId', 'entitlementNumber', 'oauthClientId', 'installationId'] as const;

/**
 * A Forge installation ARI, `ari:cloud:ecosystem::installation/<id>`. The id is a UUID today; any
 * plain identifier is accepted so a change of id format on Atlassian's side does not break installs.
 */
const FORGE_INSTALLATION_ARI = /^ari:cloud:ecosystem::installation\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Checks a lifecycle body against the app it was sent to. A bad body is a 400 that changes nothing.
 * Unknown extra fields are accepted (the product adds fields over time) but not stored.
 */
export function parseLifecyclePayload(app: ResolvedConnectApp, event: LifecycleEventName, body: unknown): { payload: LifecyclePayload; installation?: TenantInstallation } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid('The lifecycle body must be a JSON object.');
  }
  const input = body as Record<string, unknown>;
  const key = requiredString(input, 'key', LIMITS.key);
  if (key !== app.key) throw invalid(`The payload is for app ${JSON.stringify(key)}, but this is ${JSON.stringify(app.key)}.`);
  const clientKey = requiredString(input, 'clientKey', LIMITS.clientKey);
  const baseUrl = requiredUrl(input, 'baseUrl');
  const productType = requiredString(input, 'productType', 32);
  if (productType !== app.product) {
    throw invalid(`The payload is from ${JSON.stringify(productType)}, but app ${app.key} is a ${app.product} app.`);
  }
  if (input.eventType !== undefined && input.eventType !== event) {
    throw invalid(`The payload's eventType ${JSON.stringify(input.eventType)} does not match the ${event} callback.`);
  }
  const displayUrl = optionalUrl(input, 'displayUrl');
  optionalUrl(input, 'displayUrlServicedeskHelpCenter');
  const description = optionalString(input, 'description', LIMITS.description);
  const ids = Object.fromEntries(OPTIONAL_IDS.map((name) => [name, optionalString(input, name, LIMITS.id) ?? null])) as Record<(typeof OPTIONAL_IDS)[number], string | null>;
  // It links Forge calls to this tenant (ConnectForgeLink), so only a real installation ARI is stored.
  if (ids.installationId !== null && !FORGE_INSTALLATION_ARI.test(ids.installationId)) {
    throw invalid('The payload\'s "installationId" must be a Forge installation ARI (ari:cloud:ecosystem::installation/<id>).');
  }

  const { sharedSecret, ...rest } = input;
  const payload = Object.freeze({ ...rest }) as LifecyclePayload;
  if (event !== 'installed') return { payload };

  const secret = requiredString({ sharedSecret }, 'sharedSecret', LIMITS.sharedSecret);
  return {
    payload,
    installation: {
      appKey: app.key,
      clientKey,
      sharedSecret: secret,
      baseUrl,
      displayUrl: displayUrl ?? null,
      productType: app.product,
      description: description ?? null,
      ...ids,
    },
  };
}

function invalid(message: string): ConnectError {
  return ConnectError.create('lifecycle/invalid-payload', message);
}

function requiredString(input: Record<string, unknown>, name: string, max: number): string {
  const value = input[name];
  if (typeof value !== 'string' || value.length === 0) throw invalid(`The payload needs a non-empty string "${name}".`);
  if (value.length > max) throw invalid(`The payload's "${name}" is longer than ${max} characters.`);
  return value;
}

function optionalString(input: Record<string, unknown>, name: string, max: number): string | undefined {
  const value = input[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalid(`The payload's "${name}" must be a string.`);
  if (value.length > max) throw invalid(`The payload's "${name}" is longer than ${max} characters.`);
  return value;
}

function requiredUrl(input: Record<string, unknown>, name: string): string {
  return checkUrl(name, requiredString(input, name, LIMITS.url));
}

function optionalUrl(input: Record<string, unknown>, name: string): string | undefined {
  const value = optionalString(input, name, LIMITS.url);
  return value === undefined ? undefined : checkUrl(name, value);
}

function checkUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`The payload's "${name}" is not an absolute URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`The payload's "${name}" must be an http(s) URL.`);
  return value.replace(/\/+$/, '');
}
