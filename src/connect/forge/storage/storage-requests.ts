import { refuseLocally } from './forge-storage-error.js';
import type {
  StorageBatchKey,
  StorageBatchSetItem,
  StorageEntityQueryOptions,
  StorageGetOptions,
  StorageQueryOptions,
  StorageSetOptions,
  StorageTransactionRequest,
  StorageValue,
} from './forge-storage-types.js';
import {
  FORGE_STORAGE_LIMITS,
  checkCondition,
  checkCursor,
  checkEntityName,
  checkFilters,
  checkIndexName,
  checkKey,
  checkPageSize,
  checkPayload,
  checkTtl,
  checkValue,
  getOptionsBody,
  setOptionsBody,
} from './storage-limits.js';

/**
 * One call of the storage API, built and checked before anything is sent: the operation path under
 * the base URL, its JSON body, and whether sending it twice does no harm (then 429/5xx answers are
 * retried like the outbound client's idempotent calls; otherwise they are not, as for a POST).
 */
export interface StorageRequest {
  readonly operation: string;
  readonly body: unknown;
  readonly idempotent: boolean;
}

type Kind = 'kvs' | 'secret' | 'entity';
const PREFIX: Record<Kind, string> = { kvs: 'v1/', secret: 'v1/secret/', entity: 'v1/entity/' };

function entityPart(kind: Kind, operation: string, entityName: string | undefined): { entityName?: string } {
  return kind === 'entity' ? { entityName: checkEntityName(operation, entityName) } : {};
}

export function getRequest(kind: Kind, key: string, options?: StorageGetOptions, entityName?: string): StorageRequest {
  const operation = `${PREFIX[kind]}get`;
  return { operation, idempotent: true, body: { ...entityPart(kind, operation, entityName), key: checkKey(operation, key), ...getOptionsBody(operation, options) } };
}

export function setRequest(kind: Kind, key: string, value: StorageValue, options?: StorageSetOptions, entityName?: string): StorageRequest {
  const operation = `${PREFIX[kind]}set`;
  const body: Record<string, unknown> = { ...entityPart(kind, operation, entityName), key: checkKey(operation, key) };
  if (kind === 'entity' && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    throw refuseLocally('storage/invalid-request', operation, `${operation}: an entity value is an object of its attributes.`);
  }
  checkValue(operation, value);
  body.value = value;
  const checked = setOptionsBody(operation, options);
  if (checked !== undefined) body.options = checked;
  // FAIL_IF_EXISTS, and PREVIOUS (the second attempt would see the first one's value), must not be sent twice.
  const idempotent = checked?.keyPolicy !== 'FAIL_IF_EXISTS' && checked?.returnValue !== 'PREVIOUS';
  return { operation, idempotent, body };
}

export function deleteRequest(kind: Kind, key: string, entityName?: string): StorageRequest {
  const operation = `${PREFIX[kind]}delete`;
  return { operation, idempotent: true, body: { ...entityPart(kind, operation, entityName), key: checkKey(operation, key) } };
}

export function queryRequest(options: StorageQueryOptions, cursor: string | undefined): StorageRequest {
  const operation = 'v1/query';
  const body: Record<string, unknown> = {};
  const limit = checkPageSize(operation, options.pageSize, FORGE_STORAGE_LIMITS.maxKvsPageSize);
  if (limit !== undefined) body.limit = limit;
  const after = checkCursor(operation, cursor);
  if (after !== undefined) body.after = after;
  if (options.prefix !== undefined) {
    if (typeof options.prefix !== 'string' || options.prefix === '' || options.prefix.length > FORGE_STORAGE_LIMITS.maxKeyLength) {
      throw refuseLocally('storage/invalid-request', operation, `${operation}: prefix must be a non-empty string of at most ${FORGE_STORAGE_LIMITS.maxKeyLength} characters.`);
    }
    // The key-value store takes one `where`, on `key`, with BEGINS_WITH only.
    body.where = [{ property: 'key', condition: 'BEGINS_WITH', values: [options.prefix] }];
  }
  Object.assign(body, getOptionsBody(operation, options));
  return { operation, idempotent: true, body };
}

export function entityQueryRequest(entityName: string, options: StorageEntityQueryOptions, cursor: string | undefined): StorageRequest {
  const operation = 'v1/entity/query';
  const body: Record<string, unknown> = { entityName: checkEntityName(operation, entityName), indexName: checkIndexName(operation, options?.index) };
  let conditions = 0;
  if (options.partition !== undefined) {
    const scalar = (value: unknown) => typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
    if (!Array.isArray(options.partition) || options.partition.length === 0 || !options.partition.every(scalar)) {
      throw refuseLocally('storage/invalid-request', operation, `${operation}: partition is one string, number or boolean per partition attribute of the index.`);
    }
    body.partition = [...options.partition];
  }
  if (options.where !== undefined) {
    body.range = checkCondition(operation, options.where, true, 'where');
    conditions += 1;
  }
  if (options.filters !== undefined) {
    const filters = checkFilters(operation, options.filters);
    body.filters = filters.body;
    conditions += filters.count;
  }
  if (conditions > FORGE_STORAGE_LIMITS.maxQueryConditions) {
    throw refuseLocally('storage/invalid-request', operation, `${operation}: ${conditions} conditions; a query has at most ${FORGE_STORAGE_LIMITS.maxQueryConditions}.`);
  }
  if (options.sort !== undefined) {
    if (options.sort !== 'ASC' && options.sort !== 'DESC') throw refuseLocally('storage/invalid-request', operation, `${operation}: sort is ASC or DESC.`);
    body.sort = options.sort;
  }
  const limit = checkPageSize(operation, options.pageSize, FORGE_STORAGE_LIMITS.maxEntityPageSize);
  if (limit !== undefined) body.limit = limit;
  const checkedCursor = checkCursor(operation, cursor);
  if (checkedCursor !== undefined) body.cursor = checkedCursor;
  Object.assign(body, getOptionsBody(operation, options));
  return { operation, idempotent: true, body };
}

function checkBatch<T extends StorageBatchKey>(operation: string, items: readonly T[]): readonly T[] {
  if (!Array.isArray(items) || items.length === 0 || items.length > FORGE_STORAGE_LIMITS.maxBatchItems) {
    throw refuseLocally('storage/invalid-request', operation, `${operation}: a batch has 1 to ${FORGE_STORAGE_LIMITS.maxBatchItems} items.`);
  }
  const seen = new Set<string>();
  for (const item of items as T[]) {
    checkKey(operation, item?.key);
    if (item.entityName !== undefined) checkEntityName(operation, item.entityName);
    const id = `${item.entityName ?? ''}\n${item.key}`;
    if (seen.has(id))
      throw refuseLocally(
        'storage/invalid-request',
        operation,
        `${operation}: the key ${JSON.stringify(item.key.slice(0, 60))} appears twice; each key (with its entity) once per batch.`,
      );
    seen.add(id);
  }
  return items as readonly T[];
}

export function batchSetRequest(items: readonly StorageBatchSetItem[]): StorageRequest {
  const operation = 'v1/batch/set';
  const body = checkBatch(operation, items).map((item, index) => {
    checkValue(operation, item.value, `the value of item ${index}`);
    const ttl = checkTtl(operation, item.options?.ttl);
    return { ...(item.entityName !== undefined && { entityName: item.entityName }), key: item.key, value: item.value, ...(ttl !== undefined && { options: { ttl } }) };
  });
  checkPayload(operation, body);
  return { operation, idempotent: true, body };
}

export function batchKeysRequest(kind: 'get' | 'delete', items: readonly StorageBatchKey[], options?: StorageGetOptions): StorageRequest {
  const operation = `v1/batch/${kind}`;
  const extra = kind === 'get' ? getOptionsBody(operation, options) : {};
  const body = checkBatch(operation, items).map((item) => ({ ...(item.entityName !== undefined && { entityName: item.entityName }), key: item.key, ...extra }));
  return { operation, idempotent: true, body };
}

/**
 * A transaction: sets, deletes and checks that all succeed or all fail. At most 25 operations, each key
 * (with its entity) once. Sent once: a retry after a lost answer could see its own writes and fail a
 * check, so 429/5xx are not retried.
 */
export function transactionRequest(request: StorageTransactionRequest): StorageRequest {
  const operation = 'v1/transaction';
  const sets = request.set ?? [];
  const deletes = request.delete ?? [];
  const checks = request.check ?? [];
  const count = sets.length + deletes.length + checks.length;
  if (count === 0 || count > FORGE_STORAGE_LIMITS.maxTransactionOperations) {
    throw refuseLocally('storage/invalid-request', operation, `${operation}: a transaction has 1 to ${FORGE_STORAGE_LIMITS.maxTransactionOperations} operations.`);
  }
  const seen = new Set<string>();
  const keyOf = (what: string, key: unknown, entityName: unknown) => {
    checkKey(operation, key);
    if (entityName !== undefined) checkEntityName(operation, entityName);
    const id = `${String(entityName ?? '')}\n${String(key)}`;
    if (seen.has(id)) throw refuseLocally('storage/invalid-request', operation, `${operation}: ${what} uses a key already in the transaction; each key once.`);
    seen.add(id);
  };
  const conditionsOf = (what: string, entityName: unknown, conditions: unknown) => {
    if (conditions === undefined) return {};
    if (entityName === undefined) throw refuseLocally('storage/invalid-request', operation, `${operation}: ${what} has conditions, which apply to custom entities only.`);
    return { conditions: checkFilters(operation, conditions, `${what} conditions`).body };
  };
  const body: Record<string, unknown[]> = {};
  if (sets.length > 0) {
    body.set = sets.map((set, index) => {
      keyOf(`set[${index}]`, set.key, set.entityName);
      checkValue(operation, set.value, `the value of set[${index}]`);
      const ttl = checkTtl(operation, set.options?.ttl);
      return {
        key: set.key,
        value: set.value,
        ...(set.entityName !== undefined && { entityName: set.entityName }),
        ...conditionsOf(`set[${index}]`, set.entityName, set.conditions),
        ...(ttl !== undefined && { options: { ttl } }),
      };
    });
  }
  if (deletes.length > 0) {
    body.delete = deletes.map((del, index) => {
      keyOf(`delete[${index}]`, del.key, del.entityName);
      return { key: del.key, ...(del.entityName !== undefined && { entityName: del.entityName }), ...conditionsOf(`delete[${index}]`, del.entityName, del.conditions) };
    });
  }
  if (checks.length > 0) {
    body.check = checks.map((check, index) => {
      if (check.entityName === undefined)
        throw refuseLocally('storage/invalid-request', operation, `${operation}: check[${index}] needs an entityName: checks apply to custom entities.`);
      keyOf(`check[${index}]`, check.key, check.entityName);
      const conditions = conditionsOf(`check[${index}]`, check.entityName, check.conditions);
      if (conditions.conditions === undefined) throw refuseLocally('storage/invalid-request', operation, `${operation}: check[${index}] needs conditions.`);
      return { key: check.key, entityName: check.entityName, ...conditions };
    });
  }
  checkPayload(operation, body);
  return { operation, idempotent: false, body };
}
