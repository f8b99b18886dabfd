import { createHash } from 'node:crypto';
import { ConnectError } from '../errors/connect-error.js';
import { deepFreeze, objectOf } from '../util/plain-object.js';
import { FORGE_INSTALLED_EVENT, FORGE_UPGRADED_EVENT, type ForgeEventKind, type ForgeRetryContext } from './forge-event.js';

/** A Forge event or trigger body, read and checked. */
export interface ParsedForgeEvent {
  readonly kind: ForgeEventKind;
  readonly eventType: string | undefined;
  readonly moduleKey: string | undefined;
  /** The payload without `retryContext`, frozen deeply. */
  readonly payload: Readonly<Record<string, unknown>>;
  readonly retryContext: ForgeRetryContext | undefined;
}

const EVENT_TYPE = /^avi:[a-z0-9-]+(:[a-z0-9_-]+)+$/;
const MODULE_KEY = /^[a-zA-Z0-9_-]{1,255}$/;

const invalid = (message: string): ConnectError => ConnectError.create('forge/invalid-event', message);

/**
 * Reads what Forge posts to a remote for a `trigger` event, a `scheduledTrigger` or a `preUninstall`:
 * `{ "payload": { …, "retryContext"? } }` (a bare payload object is taken too). An event's name is its
 * `eventType`; Forge's own lifecycle events are recognised by their shape when it is missing
 * (`installerAccountId` → installed, `upgraderAccountId` → upgraded). Anything else is a typed 400
 * `forge/invalid-event`.
 */
export function parseForgeEventBody(kind: ForgeEventKind, body: unknown): ParsedForgeEvent {
  const root = objectOf(body);
  if (root === undefined) throw invalid('The Forge event body is not a JSON object.');
  const envelope = objectOf(root.payload);
  const { retryContext: rawRetry, ...payload } = envelope ?? root;
  const retryContext = retryContextOf(rawRetry ?? (envelope === undefined ? undefined : root.retryContext));
  const context = objectOf(payload.context);
  if (kind === 'event') {
    const eventType = eventTypeOf(payload.eventType ?? root.eventType, payload);
    return { kind, eventType, moduleKey: undefined, payload: deepFreeze(payload), retryContext };
  }
  // The trigger's own module key; the FIT's app.module names the endpoint module, not the trigger.
  const moduleKey = context?.moduleKey;
  if (moduleKey !== undefined && (typeof moduleKey !== 'string' || !MODULE_KEY.test(moduleKey))) throw invalid('The trigger’s context.moduleKey is not a module key.');
  return { kind, eventType: undefined, moduleKey, payload: deepFreeze(payload), retryContext };
}

function eventTypeOf(value: unknown, payload: Record<string, unknown>): string {
  if (value === undefined) {
    if (typeof payload.installerAccountId === 'string' && objectOf(payload.app) !== undefined) return FORGE_INSTALLED_EVENT;
    if (typeof payload.upgraderAccountId === 'string' && objectOf(payload.app) !== undefined) return FORGE_UPGRADED_EVENT;
    throw invalid('The Forge event names no eventType.');
  }
  if (typeof value !== 'string' || value.length > 255 || !EVENT_TYPE.test(value)) throw invalid('The Forge event’s eventType is not an event name.');
  return value;
}

function retryContextOf(value: unknown): ForgeRetryContext | undefined {
  if (value === undefined || value === null) return undefined;
  const retry = objectOf(value);
  if (retry === undefined) throw invalid('The Forge event’s retryContext is not an object.');
  const count = retry.retryCount;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > 100) throw invalid('The Forge event’s retryContext.retryCount is not a count.');
  const reason = retry.retryReason;
  if (reason !== undefined && reason !== null && (typeof reason !== 'string' || reason.length > 100)) throw invalid('The Forge event’s retryContext.retryReason is not a reason.');
  return Object.freeze({ retryCount: count, retryReason: typeof reason === 'string' ? reason : undefined, retryData: retry.retryData ?? null });
}

/** JSON with object keys sorted, so equal payloads give equal text whatever order their keys came in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The key a delivery is recognised by when it comes again: kind, name, module, installation and
 * payload (without `retryContext`, which is what differs between deliveries), hashed.
 */
export function forgeEventDedupeKey(event: ParsedForgeEvent, installationId: string): string {
  return createHash('sha256')
    .update(canonicalJson([event.kind, event.eventType ?? null, event.moduleKey ?? null, installationId, event.payload]))
    .digest('base64url');
}
