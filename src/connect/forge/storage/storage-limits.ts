import { refuseLocally } from './forge-storage-error.js';
import type { StorageCondition, StorageGetOptions, StorageSetOptions, StorageTtl } from './forge-storage-types.js';

/**
 * Limits of Forge's hosted storage, checked before a request is sent (from "KVS and Custom Entity Store
 * limits", "Executing batch operations", "Executing KVS transactions", "Querying the Custom Entity
 * Store" and the error table of "Accessing Forge storage from a remote via REST API").
 */
export const FORGE_STORAGE_LIMITS = Object.freeze({
  /** Keys: 1 to 500 characters of the documented set, not only whitespace. */
  maxKeyLength: 500,
  /** One stored value, as UTF-8 JSON ("240 KiB (RAW)"). */
  maxValueBytes: 240 * 1024,
  /**
   * Nesting of objects and arrays: the limits page says 31, the REST error table 32; the smaller is
   * used, a top-level object or array counting 1.
   */
  maxValueDepth: 31,
  /** Items of one batch operation. */
  maxBatchItems: 25,
  /** Operations of one transaction (set, delete and check together). */
  maxTransactionOperations: 25,
  /** Request body of a batch set or a transaction. */
  maxPayloadBytes: 4 * 1024 * 1024,
  /**
   * Page size of a key-value query: the kvs.query docs say "up to a maximum of 20", the REST error
   * table "below 100"; the smaller is used.
   */
  maxKvsPageSize: 20,
  /** Page size of a custom entity query. */
  maxEntityPageSize: 100,
  /** Conditions of one complex query (`where` and filters together). */
  maxQueryConditions: 100,
  /** Entity names: 3 to 60 characters. */
  minEntityNameLength: 3,
  maxEntityNameLength: 60,
  /** Index names: 3 to 50 characters. */
  minIndexNameLength: 3,
  maxIndexNameLength: 50,
  /** TTL: at most one year. */
  maxTtlSeconds: 365 * 24 * 3600,
});

/** The documented key pattern `/^(?!\s+$)[a-zA-Z0-9:._\s-#]+$/` (its `\s-#` is whitespace, `-` and `#`). */
const KEY_PATTERN = /^(?!\s+$)[a-zA-Z0-9:._\s\-#]+$/;
/**
 * Entity names: `a-z 0-9 : - _ .`, not starting with `-`, `_` or `.`, not ending with `.`, no `..`. The
 * limits page allows `_`, the REST error table's pattern does not; the manifest (which defines the
 * entities) follows the limits page, so `_` is allowed inside a name.
 */
const ENTITY_NAME_PATTERN = /^(?![._-])(?!.*\.\.)[a-z0-9:._-]+(?<!\.)$/;
/** Index names: `a-zA-Z0-9 : - _ .`, not starting or ending with `.`, no `..`. */
const INDEX_NAME_PATTERN = /^(?!\.)(?!.*\.\.)[a-zA-Z0-9:._-]+(?<!\.)$/;
const RANGE_CONDITIONS = new Set(['BEGINS_WITH', 'BETWEEN', 'EQUAL_TO', 'GREATER_THAN', 'GREATER_THAN_EQUAL_TO', 'LESS_THAN', 'LESS_THAN_EQUAL_TO']);
const FILTER_CONDITIONS = new Set([...RANGE_CONDITIONS, 'NOT_EQUAL_TO', 'CONTAINS', 'NOT_CONTAINS', 'EXISTS', 'NOT_EXISTS']);
const METADATA_FIELDS = new Set(['CREATED_AT', 'UPDATED_AT', 'EXPIRE_TIME']);
const TTL_SECONDS: Record<StorageTtl['unit'], number> = { SECONDS: 1, MINUTES: 60, HOURS: 3600, DAYS: 86_400 };

const shown = (value: unknown): string => {
  const text = typeof value === 'string' ? JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value) : String(value);
  return text;
};

export function checkKey(operation: string, key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) throw refuseLocally('storage/invalid-request', operation, `${operation}: the key must be a non-empty string.`);
  if (key.length > FORGE_STORAGE_LIMITS.maxKeyLength) {
    throw refuseLocally(
      'storage/invalid-request',
      operation,
      `${operation}: the key is ${key.length} characters long; Forge storage keys have at most ${FORGE_STORAGE_LIMITS.maxKeyLength}.`,
    );
  }
  if (!KEY_PATTERN.test(key)) {
    throw refuseLocally(
      'storage/invalid-request',
      operation,
      `${operation}: the key ${shown(key)} has a character Forge storage does not take (letters, digits, whitespace and : . _ - # only, not only whitespace).`,
    );
  }
  return key;
}

export function checkEntityName(operation: string, name: unknown): string {
  const { minEntityNameLength: min, maxEntityNameLength: max } = FORGE_STORAGE_LIMITS;
  if (typeof name !== 'string' || name.length < min || name.length > max || !ENTITY_NAME_PATTERN.test(name)) {
    throw refuseLocally(
      'storage/invalid-request',
      operation,
      `${operation}: the entity name ${shown(name)} is not one Forge takes (${min} to ${max} of a-z 0-9 : - _ ., not starting with - _ or ., not ending with ., no "..").`,
    );
  }
  return name;
}

export function checkIndexName(operation: string, name: unknown): string {
  const { minIndexNameLength: min, maxIndexNameLength: max } = FORGE_STORAGE_LIMITS;
  if (typeof name !== 'string' || name.length < min || name.length > max || !INDEX_NAME_PATTERN.test(name)) {
    throw refuseLocally(
      'storage/invalid-request',
      operation,
      `${operation}: the index name ${shown(name)} is not one Forge takes (${min} to ${max} of a-z A-Z 0-9 : - _ ., no leading or trailing ., no "..").`,
    );
  }
  return name;
}

/** The UTF-8 JSON size of a value, after checking it is JSON all the way down and not too deep. */
export function checkValue(operation: string, value: unknown, what = 'the value'): number {
  const top = typeof value;
  if (value === null || value === undefined || (top !== 'string' && top !== 'number' && top !== 'boolean' && top !== 'object')) {
    throw refuseLocally('storage/invalid-request', operation, `${operation}: ${what} must be a string, number, boolean, array or object.`);
  }
  checkJson(operation, value, 0, what);
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > FORGE_STORAGE_LIMITS.maxValueBytes) {
    throw refuseLocally(
      'storage/too-large',
      operation,
      `${operation}: ${what} is ${bytes} bytes as JSON; Forge storage keeps at most ${FORGE_STORAGE_LIMITS.maxValueBytes} (240 KiB) per value.`,
    );
  }
  return bytes;
}

function checkJson(operation: string, value: unknown, depth: number, what: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw refuseLocally('storage/invalid-request', operation, `${operation}: ${what} holds ${value}, which JSON cannot carry.`);
    return;
  }
  if (typeof value !== 'object') throw refuseLocally('storage/invalid-request', operation, `${operation}: ${what} holds a ${typeof value}, which is not JSON.`);
  if (depth + 1 > FORGE_STORAGE_LIMITS.maxValueDepth) {
    throw refuseLocally('storage/too-large', operation, `${operation}: ${what} is nested deeper than ${FORGE_STORAGE_LIMITS.maxValueDepth} levels, Forge storage's limit.`);
  }
  if (Array.isArray(value)) {
    for (const item of value) checkJson(operation, item, depth + 1, what);
    return;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) {
    throw refuseLocally('storage/invalid-request', operation, `${operation}: ${what} holds a ${(value as object).constructor?.name ?? 'non-plain'} object; store plain JSON.`);
  }
  for (const item of Object.values(value)) {
    if (item === undefined) continue;
    checkJson(operation, item, depth + 1, what);
  }
}

export function checkPageSize(operation: string, pageSize: unknown, max: number): number | undefined {
  if (pageSize === undefined) return undefined;
  if (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > max) {
    throw refuseLocally('storage/invalid-request', operation, `${operation}: pageSize must be a whole number from 1 to ${max}.`);
  }
  return pageSize;
}

export function checkCursor(operation: string, cursor: unknown): string | undefined {
  if (cursor === undefined) return undefined;
  if (typeof cursor !== 'string' || cursor === '' || cursor.length > 4096)
    throw refuseLocally('storage/invalid-request', operation, `${operation}: the cursor must be one a previous page returned.`);
  return cursor;
}

function checkMetadataFields(operation: string, fields: unknown): string[] | undefined {
  if (fields === undefined) return undefined;
  if (!Array.isArray(fields) || fields.some((field) => !METADATA_FIELDS.has(field as string))) {
    throw refuseLocally('storage/invalid-request', operation, `${operation}: metadataFields takes CREATED_AT, UPDATED_AT and EXPIRE_TIME.`);
  }
  return [...new Set(fields as string[])];
}

export function getOptionsBody(operation: string, options: StorageGetOptions | undefined): { options?: { metadataFields: string[] } } {
  const fields = checkMetadataFields(operation, options?.metadataFields);
  return fields === undefined || fields.length === 0 ? {} : { options: { metadataFields: fields } };
}

export function checkTtl(operation: string, ttl: unknown): StorageTtl | undefined {
  if (ttl === undefined) return undefined;
  const { value, unit } = (ttl ?? {}) as Partial<StorageTtl>;
  const factor = typeof unit === 'string' ? TTL_SECONDS[unit] : undefined;
  if (factor === undefined || typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value * factor > FORGE_STORAGE_LIMITS.maxTtlSeconds) {
    throw refuseLocally('storage/invalid-request', operation, `${operation}: ttl must be { value: a whole number ≥ 1, unit: SECONDS | MINUTES | HOURS | DAYS }, at most one year.`);
  }
  return { value, unit: unit! };
}

/** The `options` of a set, checked as the kvs-api page documents them (returnValue only when overwriting is allowed). */
export function setOptionsBody(operation: string, options: StorageSetOptions | undefined): Record<string, unknown> | undefined {
  if (options === undefined) return undefined;
  const body: Record<string, unknown> = {};
  const ttl = checkTtl(operation, options.ttl);
  if (ttl !== undefined) body.ttl = ttl;
  if (options.keyPolicy !== undefined) {
    if (options.keyPolicy !== 'OVERRIDE' && options.keyPolicy !== 'FAIL_IF_EXISTS')
      throw refuseLocally('storage/invalid-request', operation, `${operation}: keyPolicy is OVERRIDE or FAIL_IF_EXISTS.`);
    body.keyPolicy = options.keyPolicy;
  }
  if (options.returnValue !== undefined) {
    if (options.returnValue !== 'LATEST' && options.returnValue !== 'PREVIOUS')
      throw refuseLocally('storage/invalid-request', operation, `${operation}: returnValue is LATEST or PREVIOUS.`);
    if (options.keyPolicy === 'FAIL_IF_EXISTS')
      throw refuseLocally('storage/invalid-request', operation, `${operation}: returnValue needs keyPolicy OVERRIDE (or none), not FAIL_IF_EXISTS.`);
    // The API takes returnValue only with keyPolicy OVERRIDE; it is the default policy, so say so.
    body.keyPolicy = 'OVERRIDE';
    body.returnValue = options.returnValue;
  }
  const fields = checkMetadataFields(operation, options.returnMetadataFields);
  if (fields !== undefined) {
    if (options.returnValue === undefined) throw refuseLocally('storage/invalid-request', operation, `${operation}: returnMetadataFields needs returnValue.`);
    body.returnMetadataFields = fields;
  }
  return Object.keys(body).length === 0 ? undefined : body;
}

/** A condition's values as the API counts them: BETWEEN two, EXISTS / NOT_EXISTS `[true]`, the rest one. */
export function checkCondition(operation: string, c: unknown, range: boolean, what: string): { condition: string; values: (string | number | boolean)[] } {
  const { condition, values } = (c ?? {}) as Partial<StorageCondition>;
  const allowed = range ? RANGE_CONDITIONS : FILTER_CONDITIONS;
  if (typeof condition !== 'string' || !allowed.has(condition)) {
    throw refuseLocally(
      'storage/invalid-request',
      operation,
      `${operation}: ${what} has the condition ${shown(condition)}; ${range ? 'where (an index range) takes' : 'filters take'} ${[...allowed].join(', ')}.`,
    );
  }
  const expected = condition === 'BETWEEN' ? 2 : 1;
  const scalar = (value: unknown) => typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
  if (!Array.isArray(values) || values.length !== expected || !values.every(scalar)) {
    throw refuseLocally(
      'storage/invalid-request',
      operation,
      `${operation}: ${what} (${condition}) takes ${expected} string, number or boolean value${expected === 1 ? '' : 's'}.`,
    );
  }
  if ((condition === 'EXISTS' || condition === 'NOT_EXISTS') && values[0] !== true) {
    throw refuseLocally('storage/invalid-request', operation, `${operation}: ${what} (${condition}) takes the value true.`);
  }
  return { condition, values: [...(values as (string | number | boolean)[])] };
}

const ATTRIBUTE_PATTERN = /^[_A-Za-z][_0-9A-Za-z]{0,29}$/;

/** `{ and: [...] }` or `{ or: [...] }`, each filter an attribute and a condition. Returns the body and how many conditions it has. */
export function checkFilters(operation: string, filters: unknown, what = 'filters'): { body: Record<'and' | 'or', unknown[]>; count: number } {
  const record = (filters ?? {}) as Record<string, unknown>;
  const operators = Object.keys(record).filter((key) => record[key] !== undefined);
  if (operators.length !== 1 || (operators[0] !== 'and' && operators[0] !== 'or') || !Array.isArray(record[operators[0]]) || (record[operators[0]] as unknown[]).length === 0) {
    throw refuseLocally('storage/invalid-request', operation, `${operation}: ${what} is { and: [...] } or { or: [...] } (not both), with at least one filter.`);
  }
  const operator = operators[0] as 'and' | 'or';
  const items = (record[operator] as unknown[]).map((item, index) => {
    const property = (item as { property?: unknown } | null)?.property;
    if (typeof property !== 'string' || !ATTRIBUTE_PATTERN.test(property)) {
      throw refuseLocally('storage/invalid-request', operation, `${operation}: ${what}[${index}] needs an attribute name (a letter or _, then letters, digits or _, at most 30).`);
    }
    return { property, ...checkCondition(operation, item, false, `${what}[${index}]`) };
  });
  return { body: { [operator]: items } as Record<'and' | 'or', unknown[]>, count: items.length };
}

export function checkPayload(operation: string, body: unknown): void {
  const bytes = Buffer.byteLength(JSON.stringify(body), 'utf8');
  if (bytes > FORGE_STORAGE_LIMITS.maxPayloadBytes) {
    throw refuseLocally(
      'storage/too-large',
      operation,
      `${operation}: the request is ${bytes} bytes as JSON; Forge storage takes at most ${FORGE_STORAGE_LIMITS.maxPayloadBytes} (4 MB) per batch or transaction.`,
    );
  }
}
