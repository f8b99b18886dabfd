import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

import { isForgeRefusal, type FakeForgeApi } from './fake-forge-api.js';
import { closeServer, redactedHeaders, sendJson, splitTarget, startLoopbackServer } from './fake-http.js';

/**
 * A fake of Forge's hosted storage REST API (`https://api.atlassian.com/forge/storage/kvs/v1/…`), in
 * memory, on 127.0.0.1: the key-value store, secrets, custom entities with their indexes, batches and
 * transactions, per installation (the bearer system token says which), with the documented limits,
 * cursors, `where`/filter conditions and `{ code, message }` errors, and 429s on demand.
 *
 * Shapes and limits follow Atlassian's pages "Accessing Forge storage from a remote via REST API", the
 * "KVS/Custom Entity Store API" reference, "Querying the Custom Entity Store", "Executing batch
 * operations", "Executing KVS transactions" and "KVS and Custom Entity Store limits". Where they are
 * silent this fake is strict and says so: a refused `FAIL_IF_EXISTS` is 409 `KEY_ALREADY_EXISTS`, a
 * failed transaction condition 409 `CONDITIONAL_CHECK_FAILED`, a missing key 404 `KEY_NOT_FOUND`, an
 * entity attribute the definition does not declare 400 `INVALID_ENTITY_ATTRIBUTE`.
 */

/** An attribute type of a custom entity, as the manifest declares it. */
export type FakeStorageAttributeType = 'string' | 'integer' | 'float' | 'boolean' | 'any';

/** A custom entity as `manifest.yml` declares it under `app.storage.entities`. */
export interface FakeStorageEntityDefinition {
  name: string;
  attributes: Record<string, { type: FakeStorageAttributeType }>;
  /** A simple index is an attribute name (its range); a named one has `partition` attributes and one `range` attribute. */
  indexes?: (string | { name: string; partition?: string[]; range: string[] })[];
}

export interface FakeForgeStorageOptions {
  /** The custom entities of the app (default none: every entity operation is refused). */
  entities?: FakeStorageEntityDefinition[];
  /** Port on 127.0.0.1 (default: a free one). */
  port?: number;
}

/** One request the fake answered. `authorization` shows only the scheme. */
export interface FakeStorageRequest {
  /** `v1/get`, `v1/entity/query`, … */
  operation: string;
  /** Whose storage, when the token was accepted. */
  installationId: string | undefined;
  status: number;
  /** The API's error code of the answer, if it was an error. */
  apiCode: string | undefined;
  /** The parsed request body. */
  body: unknown;
  headers: Record<string, string>;
}

/** A failure answered instead of the next requests (see `failNext`). */
export interface FakeStorageFailure {
  status?: number;
  code?: string;
  /** Seconds sent in `Retry-After` (default 0 for a 429, none otherwise). */
  retryAfterSeconds?: number;
}

const BASE_PATH = '/forge/storage/kvs';
const MAX_BODY_BYTES = 5 * 1024 * 1024;
const LIMITS = {
  key: 500,
  valueBytes: 240 * 1024,
  depth: 31,
  batch: 25,
  transaction: 25,
  payload: 4 * 1024 * 1024,
  kvsPage: 20,
  entityPage: 100,
  defaultPage: 10,
  conditions: 100,
};
const KEY_PATTERN = /^(?!\s+$)[a-zA-Z0-9:._\s\-#]+$/;
const RANGE_CONDITIONS = new Set(['BEGINS_WITH', 'BETWEEN', 'EQUAL_TO', 'GREATER_THAN', 'GREATER_THAN_EQUAL_TO', 'LESS_THAN', 'LESS_THAN_EQUAL_TO']);
const ALL_CONDITIONS = new Set([...RANGE_CONDITIONS, 'NOT_EQUAL_TO', 'CONTAINS', 'NOT_CONTAINS', 'EXISTS', 'NOT_EXISTS']);
const TTL_UNITS: Record<string, number> = { SECONDS: 1, MINUTES: 60, HOURS: 3600, DAYS: 86_400 };

type Scalar = string | number | boolean;
interface Stored {
  value: unknown;
  createdAt: number;
  updatedAt: number;
  expiresAt: number | undefined;
}
interface Space {
  kvs: Map<string, Stored>;
  secret: Map<string, Stored>;
  entities: Map<string, Map<string, Stored>>;
}
interface Index {
  name: string;
  partition: string[];
  /** `undefined`: the key (the `by-key` index). */
  range: string | undefined;
}
interface Entity {
  attributes: Record<string, { type: FakeStorageAttributeType }>;
  indexes: Map<string, Index>;
}
interface Condition {
  condition: string;
  values: Scalar[];
}
interface Filter extends Condition {
  property: string;
}

/** An error answer of the API. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const bad = (code: string, message: string) => new ApiError(400, code, message);
const encodeCursor = (position: unknown[]) => Buffer.from(JSON.stringify(position)).toString('base64url');

export class FakeForgeStorage {
  /** `http://127.0.0.1:<port>/forge/storage/kvs`: give it to the app as `forge.storageApiBaseUrl`. */
  readonly baseUrl: string;
  /** Every request answered, oldest first (bounded: the latest 1000). */
  readonly requests: FakeStorageRequest[] = [];
  private readonly spaces = new Map<string, Space>();
  private readonly entities = new Map<string, Entity>();
  private readonly tokens = new Map<string, { installationId: string; expiresAtMs: number; revoked: boolean }>();
  private readonly trusted: FakeForgeApi[] = [];
  private failures: FakeStorageFailure[] = [];

  private constructor(
    private readonly server: Server,
    port: number,
    options: FakeForgeStorageOptions,
  ) {
    this.baseUrl = `http://127.0.0.1:${port}${BASE_PATH}`;
    for (const definition of options.entities ?? []) this.entities.set(definition.name, entityOf(definition));
  }

  /**
   * Starts the fake storage API.
   *
   * @example
   * ```ts
   * const storage = await FakeForgeStorage.start({ entities: [{ name: 'task', attributes: { status: { type: 'string' } }, indexes: ['status'] }] });
   * storage.trust(site.forge);           // the system tokens of this site are accepted
   * // ConnectModule.forRoot({ …, forge: { storageApiBaseUrl: storage.baseUrl } })
   * ```
   */
  static async start(options: FakeForgeStorageOptions = {}): Promise<FakeForgeStorage> {
    let self: FakeForgeStorage | undefined;
    const { server, port } = await startLoopbackServer(options.port ?? 0, (req, res) => self!.handle(req, res));
    self = new FakeForgeStorage(server, port, options);
    return self;
  }

  /** Accepts the app system tokens a `FakeForgeApi` (a fake site's `site.forge`) issues, for their installation; its user tokens get 403. */
  trust(api: FakeForgeApi): this {
    this.trusted.push(api);
    return this;
  }

  /** A system token of this fake alone, for `installationId` (expiring in `expiresInSeconds`, default an hour). */
  issueToken(installationId: string, expiresInSeconds = 3600): string {
    const token = `fake-storage.${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, { installationId, expiresAtMs: Date.now() + expiresInSeconds * 1000, revoked: false });
    return token;
  }

  /** Refuses a token of `issueToken` from now on. */
  revoke(token: string): boolean {
    const entry = this.tokens.get(token);
    if (entry !== undefined) entry.revoked = true;
    return entry !== undefined;
  }

  /** Answers the next `count` authenticated requests with an error (default 429 `RATE_LIMIT_EXCEEDED`, `Retry-After: 0`). */
  failNext(count: number, failure: FakeStorageFailure = {}): void {
    this.failures = Array.from({ length: count }, () => failure);
  }

  /** What an installation holds under `key`: a key-value entry, a secret (`secret: true`) or an entity's (`entityName`). */
  valueOf(installationId: string, key: string, where: { secret?: boolean; entityName?: string } = {}): unknown {
    const space = this.spaces.get(installationId);
    const map = where.entityName !== undefined ? space?.entities.get(where.entityName) : where.secret ? space?.secret : space?.kvs;
    const stored = map?.get(key);
    return stored === undefined || expired(stored) ? undefined : structuredClone(stored.value);
  }

  /** Forgets the requests seen and pending failures (the data stays). */
  reset(): void {
    this.requests.length = 0;
    this.failures = [];
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path } = splitTarget(req.url ?? '/');
    const operation = path.startsWith(`${BASE_PATH}/`) ? path.slice(BASE_PATH.length + 1) : path;
    const record: FakeStorageRequest = { operation, installationId: undefined, status: 0, apiCode: undefined, body: undefined, headers: redactedHeaders(req) };
    let status = 200;
    let answer: unknown;
    let headers: Record<string, string> = {};
    try {
      if (req.method !== 'POST') throw new ApiError(405, 'METHOD_NOT_ALLOWED', 'The storage API takes POST requests.');
      const text = await readLimited(req);
      record.installationId = this.authenticate(req.headers.authorization);
      const failure = this.failures.shift();
      if (failure !== undefined) {
        const failStatus = failure.status ?? 429;
        const retryAfter = failure.retryAfterSeconds ?? (failStatus === 429 ? 0 : undefined);
        if (retryAfter !== undefined) headers = { 'retry-after': String(retryAfter) };
        throw new ApiError(failStatus, failure.code ?? (failStatus === 429 ? 'RATE_LIMIT_EXCEEDED' : 'INTERNAL_SERVER_ERROR'), 'Injected failure.');
      }
      if (!/json/i.test(req.headers['content-type'] ?? '')) throw bad('INVALID_REQUEST_BODY', 'Requests are sent as application/json.');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw bad('INVALID_REQUEST_BODY', 'The request body is not JSON.');
      }
      record.body = body;
      const result = this.run(operation, body, this.spaceOf(record.installationId));
      if (result === undefined) status = 204;
      else answer = result;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      status = error.status;
      record.apiCode = error.code;
      answer = { code: error.code, message: error.message };
    }
    record.status = status;
    this.requests.push(record);
    if (this.requests.length > 1000) this.requests.shift();
    if (status === 204) {
      res.statusCode = 204;
      res.end();
      return;
    }
    sendJson(res, status, answer, headers);
  }

  /** The installation of a bearer app system token, as the real API reads it from the token. */
  private authenticate(authorization: string | undefined): string {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (match === null) throw new ApiError(401, 'UNAUTHORIZED', 'Requests need "Authorization: Bearer <app system token>".');
    const own = this.tokens.get(match[1]!);
    if (own !== undefined) {
      if (own.revoked || Date.now() >= own.expiresAtMs) throw new ApiError(401, 'UNAUTHORIZED', 'The token has expired.');
      return own.installationId;
    }
    for (const api of this.trusted) {
      const caller = api.authenticate(authorization);
      if (isForgeRefusal(caller)) {
        if (caller.reason === 'unknown-forge-token') continue;
        throw new ApiError(401, 'UNAUTHORIZED', caller.message);
      }
      if (caller.principal !== 'system') throw new ApiError(403, 'FORBIDDEN', 'Only the app system token (x-forge-oauth-system) may call the storage API, not a user token.');
      return caller.installationId;
    }
    throw new ApiError(401, 'UNAUTHORIZED', 'The bearer token is not an app system token Forge issued.');
  }

  private spaceOf(installationId: string | undefined): Space {
    let space = this.spaces.get(installationId!);
    if (space === undefined) {
      space = { kvs: new Map(), secret: new Map(), entities: new Map() };
      this.spaces.set(installationId!, space);
    }
    return space;
  }

  private run(operation: string, body: unknown, space: Space): unknown {
    const record = (body ?? {}) as Record<string, unknown>;
    switch (operation) {
      case 'v1/get':
        return read(space.kvs, record);
      case 'v1/set':
        return write(space.kvs, record, record.value);
      case 'v1/delete':
        return remove(space.kvs, record);
      case 'v1/query':
        return queryKvs(space.kvs, record);
      case 'v1/secret/get':
        return read(space.secret, record);
      case 'v1/secret/set':
        return write(space.secret, record, record.value);
      case 'v1/secret/delete':
        return remove(space.secret, record);
      case 'v1/entity/get':
        return read(this.entityMap(space, record.entityName), record);
      case 'v1/entity/set':
        return write(this.entityMap(space, record.entityName), record, this.entityValue(record.entityName as string, record.value));
      case 'v1/entity/delete':
        return remove(this.entityMap(space, record.entityName), record);
      case 'v1/entity/query':
        return this.queryEntities(space, record);
      case 'v1/batch/set':
      case 'v1/batch/get':
      case 'v1/batch/delete':
        return this.batch(operation.slice('v1/batch/'.length), space, body);
      case 'v1/transaction':
        return this.transact(space, record);
      default:
        throw new ApiError(404, 'NOT_FOUND', `No operation ${operation}.`);
    }
  }

  private entityMap(space: Space, name: unknown): Map<string, Stored> {
    if (typeof name !== 'string' || !this.entities.has(name)) throw bad('INVALID_ENTITY_TYPE', `The entity ${JSON.stringify(name)} is not defined in the app's manifest.`);
    let map = space.entities.get(name);
    if (map === undefined) {
      map = new Map();
      space.entities.set(name, map);
    }
    return map;
  }

  /** An entity value checked against its definition: an object of declared, well-typed attributes. */
  private entityValue(name: string, value: unknown): unknown {
    const entity = this.entities.get(name);
    if (entity === undefined) throw bad('INVALID_ENTITY_TYPE', `The entity ${JSON.stringify(name)} is not defined in the app's manifest.`);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('INVALID_ENTITY_VALUE', 'An entity value is an object of its attributes.');
    for (const [attribute, item] of Object.entries(value)) {
      const declared = entity.attributes[attribute];
      if (declared === undefined) throw bad('INVALID_ENTITY_ATTRIBUTE', `The entity ${name} declares no attribute ${attribute}.`);
      if (!typeFits(declared.type, item)) throw bad('INVALID_ENTITY_VALUE', `The attribute ${attribute} of ${name} is declared ${declared.type}.`);
    }
    return value;
  }

  private queryEntities(space: Space, record: Record<string, unknown>): unknown {
    const map = this.entityMap(space, record.entityName);
    const entity = this.entities.get(record.entityName as string)!;
    const index = entity.indexes.get(record.indexName as string);
    if (index === undefined) throw bad('INVALID_ENTITY_INDEX', `The entity ${String(record.entityName)} has no index ${JSON.stringify(record.indexName)}.`);
    const partition = record.partition === undefined ? [] : record.partition;
    if (!Array.isArray(partition) || partition.length !== index.partition.length) {
      throw bad('INVALID_PARTITION', `The index ${index.name} takes ${index.partition.length} partition value(s), one per attribute: ${index.partition.join(', ') || 'none'}.`);
    }
    const range = record.range === undefined ? undefined : conditionOf(record.range, true);
    const filters = record.filters === undefined ? undefined : filtersOf(record.filters);
    if ((range === undefined ? 0 : 1) + (filters?.items.length ?? 0) > LIMITS.conditions) throw bad('TOO_MANY_CONDITIONS', `A query has at most ${LIMITS.conditions} conditions.`);
    const limit = pageSizeOf(record.limit, LIMITS.entityPage);
    const descending = record.sort === 'DESC';
    if (record.sort !== undefined && record.sort !== 'ASC' && record.sort !== 'DESC') throw bad('INVALID_SORT', 'sort is ASC or DESC.');
    const rangeOf = (key: string, value: Record<string, unknown>) => (index.range === undefined ? key : value[index.range]);
    let rows = [...map.entries()]
      .filter(([, stored]) => !expired(stored))
      .map(([key, stored]) => ({ key, stored, value: stored.value as Record<string, unknown> }))
      .filter(({ key, value }) => rangeOf(key, value) !== undefined && index.partition.every((attribute, i) => value[attribute] !== undefined && value[attribute] === partition[i]))
      .filter(({ key, value }) => range === undefined || matches(range, rangeOf(key, value)))
      .map((row) => ({ ...row, position: [rangeOf(row.key, row.value), row.key] as unknown[] }))
      .sort((a, b) => compareTuple(a.position, b.position) * (descending ? -1 : 1));
    if (record.cursor !== undefined) {
      const after = cursorOf(record.cursor);
      rows = rows.filter((row) => compareTuple(row.position, after) * (descending ? -1 : 1) > 0);
    }
    const page = rows.slice(0, limit);
    // Filters run in memory on the page, as the docs warn: a page may come back empty with a cursor.
    const kept = filters === undefined ? page : page.filter(({ value }) => filterMatches(filters, value));
    const metadata = metadataFieldsOf(record);
    return {
      data: kept.map(({ key, stored }) => entryOf(key, stored, metadata)),
      ...(rows.length > limit && { cursor: encodeCursor(page.at(-1)!.position) }),
    };
  }

  private batch(kind: string, space: Space, body: unknown): unknown {
    if (!Array.isArray(body) || body.length === 0 || body.length > LIMITS.batch) throw bad('INVALID_BATCH_SIZE', `A batch has 1 to ${LIMITS.batch} items.`);
    const seen = new Set<string>();
    for (const item of body as Record<string, unknown>[]) {
      const id = `${String(item?.entityName ?? '')}\n${String(item?.key)}`;
      if (seen.has(id)) throw bad('DUPLICATE_KEYS', 'A batch names each key (with its entity) once.');
      seen.add(id);
    }
    if (kind === 'set' && Buffer.byteLength(JSON.stringify(body)) > LIMITS.payload) throw new ApiError(413, 'PAYLOAD_TOO_LARGE', 'A batch set is at most 4 MB.');
    const successfulKeys: unknown[] = [];
    const failedKeys: unknown[] = [];
    for (const item of body as Record<string, unknown>[]) {
      const id = { key: item.key, ...(item.entityName !== undefined && { entityName: item.entityName }) };
      try {
        const map = item.entityName === undefined ? space.kvs : this.entityMap(space, item.entityName);
        if (kind === 'set') {
          write(map, item, item.entityName === undefined ? item.value : this.entityValue(item.entityName as string, item.value));
          successfulKeys.push(id);
        } else if (kind === 'get') {
          successfulKeys.push({ ...(read(map, item) as object), ...(item.entityName !== undefined && { entityName: item.entityName }) });
        } else {
          keyOf(item);
          map.delete(item.key as string);
          successfulKeys.push(id);
        }
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        failedKeys.push({ ...id, error: { code: error.code, message: error.message } });
      }
    }
    return { successfulKeys, failedKeys };
  }

  /** All or nothing: every operation is checked and every condition evaluated before anything changes. */
  private transact(space: Space, record: Record<string, unknown>): undefined {
    const list = (name: string) => {
      const value = record[name];
      if (value === undefined) return [];
      if (!Array.isArray(value)) throw bad('INVALID_TRANSACTION', `${name} is a list.`);
      return value as Record<string, unknown>[];
    };
    const sets = list('set');
    const deletes = list('delete');
    const checks = list('check');
    const count = sets.length + deletes.length + checks.length;
    if (count === 0 || count > LIMITS.transaction) throw bad('INVALID_TRANSACTION', `A transaction has 1 to ${LIMITS.transaction} operations.`);
    if (Buffer.byteLength(JSON.stringify(record)) > LIMITS.payload) throw new ApiError(413, 'PAYLOAD_TOO_LARGE', 'A transaction is at most 4 MB.');
    const seen = new Set<string>();
    const target = (item: Record<string, unknown>) => {
      const key = keyOf(item);
      const id = `${String(item.entityName ?? '')}\n${key}`;
      if (seen.has(id)) throw bad('DUPLICATE_KEYS', 'Each key is used once in a transaction.');
      seen.add(id);
      const map = item.entityName === undefined ? space.kvs : this.entityMap(space, item.entityName);
      if (item.conditions !== undefined && item.entityName === undefined) throw bad('INVALID_TRANSACTION', 'Conditions apply to custom entities only.');
      const current = map.get(key);
      const holds =
        item.conditions === undefined || filterMatches(filtersOf(item.conditions), (current === undefined || expired(current) ? {} : current.value) as Record<string, unknown>);
      return { key, map, holds };
    };
    const writes = sets.map((item) => {
      const value = item.entityName === undefined ? item.value : this.entityValue(item.entityName as string, item.value);
      checkValue(value);
      return { ...target(item), item, value };
    });
    const removals = deletes.map((item) => target(item));
    const verdicts = checks.map((item) => {
      if (item.entityName === undefined || item.conditions === undefined) throw bad('INVALID_TRANSACTION', 'A check names an entity and conditions.');
      return target(item);
    });
    if (![...writes, ...removals, ...verdicts].every((operation) => operation.holds)) {
      throw new ApiError(409, 'CONDITIONAL_CHECK_FAILED', 'A condition of the transaction does not hold; nothing was changed.');
    }
    for (const { map, item, value } of writes) write(map, item, value);
    for (const { map, key } of removals) map.delete(key);
    return undefined;
  }
}

function entityOf(definition: FakeStorageEntityDefinition): Entity {
  const indexes = new Map<string, Index>([['by-key', { name: 'by-key', partition: [], range: undefined }]]);
  for (const index of definition.indexes ?? []) {
    if (typeof index === 'string') indexes.set(index, { name: index, partition: [], range: index });
    else indexes.set(index.name, { name: index.name, partition: index.partition ?? [], range: index.range[0] });
  }
  return { attributes: definition.attributes, indexes };
}

function typeFits(type: FakeStorageAttributeType, value: unknown): boolean {
  if (type === 'any') return value !== undefined;
  if (type === 'string') return typeof value === 'string' && value.trim() !== '';
  if (type === 'integer') return typeof value === 'number' && Number.isInteger(value) && value >= -2_147_483_648 && value <= 2_147_483_647;
  if (type === 'float') return typeof value === 'number' && Number.isFinite(value);
  return typeof value === 'boolean';
}

async function readLimited(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, 'PAYLOAD_TOO_LARGE', 'The request body is too large.');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function expired(stored: Stored): boolean {
  return stored.expiresAt !== undefined && Date.now() >= stored.expiresAt;
}

function keyOf(record: Record<string, unknown>): string {
  const key = record?.key;
  if (typeof key !== 'string' || key.length === 0) throw bad('KEY_TOO_SHORT', 'The key needs at least one character.');
  if (key.length > LIMITS.key) throw bad('KEY_TOO_LONG', `The key has more than ${LIMITS.key} characters.`);
  if (!KEY_PATTERN.test(key)) throw bad('INVALID_KEY', 'The key does not match /^(?!\\s+$)[a-zA-Z0-9:._\\s-#]+$/.');
  return key;
}

function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const items: unknown[] = Array.isArray(value) ? value : Object.values(value);
  return 1 + items.reduce<number>((max, item) => Math.max(max, depthOf(item)), 0);
}

function checkValue(value: unknown): void {
  if (value === undefined || value === null) throw bad('INVALID_VALUE', 'A value is a string, number, boolean, array or object.');
  if (Buffer.byteLength(JSON.stringify(value)) > LIMITS.valueBytes) throw bad('MAX_SIZE', 'The value is larger than 240 KiB.');
  if (depthOf(value) > LIMITS.depth) throw bad('MAX_DEPTH', `The value is nested deeper than ${LIMITS.depth}.`);
}

function metadataFieldsOf(record: Record<string, unknown>): Set<string> {
  const fields = (record.options as { metadataFields?: unknown } | undefined)?.metadataFields;
  return new Set(Array.isArray(fields) ? (fields as string[]) : []);
}

function entryOf(key: string, stored: Stored, fields: Set<string>): Record<string, unknown> {
  return {
    key,
    value: structuredClone(stored.value),
    ...(fields.has('CREATED_AT') && { createdAt: stored.createdAt }),
    ...(fields.has('UPDATED_AT') && { updatedAt: stored.updatedAt }),
    ...(fields.has('EXPIRE_TIME') && stored.expiresAt !== undefined && { expireTime: new Date(stored.expiresAt).toISOString() }),
  };
}

function read(map: Map<string, Stored>, record: Record<string, unknown>): unknown {
  const key = keyOf(record);
  const stored = map.get(key);
  if (stored === undefined || expired(stored)) throw new ApiError(404, 'KEY_NOT_FOUND', 'The specified key does not exist.');
  return entryOf(key, stored, metadataFieldsOf(record));
}

function write(map: Map<string, Stored>, record: Record<string, unknown>, value: unknown): unknown {
  const key = keyOf(record);
  checkValue(value);
  const options = (record.options ?? {}) as { ttl?: { value?: unknown; unit?: unknown }; keyPolicy?: unknown; returnValue?: unknown; returnMetadataFields?: unknown };
  let expiresAt: number | undefined;
  if (options.ttl !== undefined) {
    const factor = TTL_UNITS[String(options.ttl.unit)];
    const amount = options.ttl.value;
    if (factor === undefined || typeof amount !== 'number' || !Number.isInteger(amount) || amount < 1 || amount * factor > 365 * 86_400)
      throw bad('INVALID_TTL', 'ttl is { value, unit }, at most one year.');
    expiresAt = Date.now() + amount * factor * 1000;
  }
  const previous = map.get(key);
  const live = previous !== undefined && !expired(previous) ? previous : undefined;
  if (options.keyPolicy === 'FAIL_IF_EXISTS' && live !== undefined) throw new ApiError(409, 'KEY_ALREADY_EXISTS', 'The key already exists.');
  if (options.returnValue !== undefined && options.keyPolicy !== 'OVERRIDE') throw bad('INVALID_OPTIONS', 'returnValue needs keyPolicy OVERRIDE.');
  const now = Date.now();
  const stored: Stored = { value: structuredClone(value), createdAt: live?.createdAt ?? now, updatedAt: now, expiresAt };
  map.set(key, stored);
  if (options.returnValue === undefined) return undefined;
  const fields = new Set(Array.isArray(options.returnMetadataFields) ? (options.returnMetadataFields as string[]) : []);
  const shown = options.returnValue === 'PREVIOUS' ? live : stored;
  return shown === undefined ? { key, value: null } : entryOf(key, shown, fields);
}

function remove(map: Map<string, Stored>, record: Record<string, unknown>): undefined {
  const key = keyOf(record);
  const stored = map.get(key);
  if (stored === undefined || expired(stored)) throw new ApiError(404, 'KEY_NOT_FOUND', 'The specified key does not exist.');
  map.delete(key);
  return undefined;
}

function pageSizeOf(limit: unknown, max: number): number {
  if (limit === undefined) return LIMITS.defaultPage;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > max) throw bad('LIST_QUERY_LIMIT_EXCEEDED', `The limit of a query is 1 to ${max}.`);
  return limit;
}

function cursorOf(cursor: unknown): unknown[] {
  try {
    const position = JSON.parse(Buffer.from(String(cursor), 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(position)) return position;
  } catch {
    // fall through
  }
  throw bad('INVALID_CURSOR', 'The cursor is not one this query returned.');
}

function queryKvs(map: Map<string, Stored>, record: Record<string, unknown>): unknown {
  const limit = pageSizeOf(record.limit, LIMITS.kvsPage);
  let prefix: string | undefined;
  if (record.where !== undefined) {
    if (!Array.isArray(record.where) || record.where.length !== 1) throw bad('QUERY_WHERE_INVALID', 'KVS queries take a single "where" clause.');
    const where = record.where[0] as Record<string, unknown>;
    if (where?.property !== 'key') throw bad('QUERY_WHERE_FIELD_INVALID', 'KVS queries filter on key only.');
    if (where.condition !== 'BEGINS_WITH') throw bad('INVALID_FILTER_CONDITION', 'KVS queries take BEGINS_WITH only.');
    if (!Array.isArray(where.values) || where.values.length !== 1 || typeof where.values[0] !== 'string') throw bad('INVALID_FILTER_VALUES', 'BEGINS_WITH takes one value.');
    prefix = where.values[0];
  }
  const after = record.after === undefined ? undefined : String(cursorOf(record.after)[0]);
  const keys = [...map.entries()]
    .filter(([key, stored]) => !expired(stored) && (prefix === undefined || key.startsWith(prefix)) && (after === undefined || key > after))
    .map(([key]) => key)
    .sort();
  const page = keys.slice(0, limit);
  const metadata = metadataFieldsOf(record);
  return { data: page.map((key) => entryOf(key, map.get(key)!, metadata)), ...(keys.length > limit && { cursor: encodeCursor([page.at(-1)]) }) };
}

function conditionOf(value: unknown, range: boolean): Condition {
  const { condition, values } = (value ?? {}) as { condition?: unknown; values?: unknown };
  if (typeof condition !== 'string' || !(range ? RANGE_CONDITIONS : ALL_CONDITIONS).has(condition))
    throw bad('INVALID_FILTER_CONDITION', `The condition ${String(condition)} is not supported here.`);
  const expected = condition === 'BETWEEN' ? 2 : 1;
  if (!Array.isArray(values) || values.length !== expected) throw bad('INVALID_FILTER_VALUES', `${condition} takes ${expected} value(s).`);
  return { condition, values: values as Scalar[] };
}

function filtersOf(value: unknown): { operator: 'and' | 'or'; items: Filter[] } {
  const record = (value ?? {}) as Record<string, unknown>;
  const operators = Object.keys(record);
  if (operators.length !== 1 || (operators[0] !== 'and' && operators[0] !== 'or') || !Array.isArray(record[operators[0]])) {
    throw bad('INVALID_FILTER', 'Filters are { and: [...] } or { or: [...] }.');
  }
  const items = (record[operators[0]] as unknown[]).map((item) => {
    const property = (item as { property?: unknown })?.property;
    if (typeof property !== 'string' || property === '') throw bad('INVALID_FILTER', 'Each filter names a property.');
    return { property, ...conditionOf(item, false) };
  });
  return { operator: operators[0], items };
}

function filterMatches(filters: { operator: 'and' | 'or'; items: Filter[] }, value: Record<string, unknown>): boolean {
  const test = (filter: Filter) => matches(filter, value[filter.property]);
  return filters.operator === 'and' ? filters.items.every(test) : filters.items.some(test);
}

function compare(a: unknown, b: unknown): number | undefined {
  if (typeof a !== typeof b || (typeof a !== 'string' && typeof a !== 'number')) return undefined;
  return (a as string | number) < (b as string | number) ? -1 : (a as string | number) > (b as string | number) ? 1 : 0;
}

function compareTuple(a: unknown[], b: unknown[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const order = compare(a[i], b[i]) ?? String(a[i]).localeCompare(String(b[i]));
    if (order !== 0) return order;
  }
  return 0;
}

function matches(condition: Condition, actual: unknown): boolean {
  const [first, second] = condition.values;
  switch (condition.condition) {
    case 'EXISTS':
      return actual !== undefined;
    case 'NOT_EXISTS':
      return actual === undefined;
    case 'EQUAL_TO':
      return actual === first;
    case 'NOT_EQUAL_TO':
      return actual !== first;
    case 'BEGINS_WITH':
      return typeof actual === 'string' && actual.startsWith(String(first));
    case 'CONTAINS':
      return typeof actual === 'string' && actual.includes(String(first));
    case 'NOT_CONTAINS':
      return typeof actual === 'string' && !actual.includes(String(first));
    case 'BETWEEN':
      return (compare(actual, first) ?? -1) >= 0 && (compare(actual, second) ?? 1) <= 0;
    case 'GREATER_THAN':
      return (compare(actual, first) ?? 0) > 0;
    case 'GREATER_THAN_EQUAL_TO':
      return (compare(actual, first) ?? -1) >= 0;
    case 'LESS_THAN':
      return (compare(actual, first) ?? 0) < 0;
    case 'LESS_THAN_EQUAL_TO':
      return (compare(actual, first) ?? 1) <= 0;
    default:
      return false;
  }
}
