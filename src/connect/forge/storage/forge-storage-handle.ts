import { ForgeStorageError } from './forge-storage-error.js';
import type {
  StorageBatchGetResult,
  StorageBatchKey,
  StorageBatchResult,
  StorageBatchSetItem,
  StorageEntityQueryOptions,
  StorageEntry,
  StorageFilters,
  StorageGetOptions,
  StorageQueryOptions,
  StorageSetOptions,
  StorageTransactionRequest,
  StorageTtl,
  StorageValue,
} from './forge-storage-types.js';
import { StorageQuery, pageOf } from './storage-query.js';
import {
  batchKeysRequest,
  batchSetRequest,
  deleteRequest,
  entityQueryRequest,
  getRequest,
  queryRequest,
  setRequest,
  transactionRequest,
  type StorageRequest,
} from './storage-requests.js';
import type { StorageTransport } from './storage-transport.js';

/** A read: the value, `undefined` when the key does not exist (`storage/not-found` is not thrown for reads). */
async function read<T>(transport: StorageTransport, request: StorageRequest, options: StorageGetOptions | undefined): Promise<T | StorageEntry<T> | undefined> {
  let body: StorageEntry<T> | undefined;
  try {
    body = await transport.send<StorageEntry<T> | undefined>(request);
  } catch (error) {
    if (error instanceof ForgeStorageError && error.code === 'storage/not-found') return undefined;
    throw error;
  }
  if (body === undefined || body === null) return undefined;
  return options?.metadataFields !== undefined && options.metadataFields.length > 0 ? body : body.value;
}

/** A delete: done also when the key did not exist (as `@forge/kvs` and transactions treat it). */
async function remove(transport: StorageTransport, request: StorageRequest): Promise<void> {
  try {
    await transport.send(request);
  } catch (error) {
    if (error instanceof ForgeStorageError && error.code === 'storage/not-found') return;
    throw error;
  }
}

/** A write: `undefined`, or the entry asked for with `returnValue`. */
async function write<T>(transport: StorageTransport, request: StorageRequest, options: StorageSetOptions | undefined): Promise<StorageEntry<T> | undefined> {
  const body = await transport.send<StorageEntry<T> | undefined>(request);
  return options?.returnValue !== undefined && body !== undefined && body !== null && typeof body === 'object' ? body : undefined;
}

/**
 * One custom entity of one installation (`storage.entity('task')`): its values are objects of the
 * attributes the manifest declares, queried through its indexes.
 */
export class ForgeStorageEntity<T extends object = Record<string, unknown>> {
  constructor(
    private readonly transport: StorageTransport,
    readonly name: string,
  ) {}

  get(key: string): Promise<T | undefined>;
  get(key: string, options: StorageGetOptions & { metadataFields: readonly unknown[] }): Promise<StorageEntry<T> | undefined>;
  async get(key: string, options?: StorageGetOptions): Promise<T | StorageEntry<T> | undefined> {
    return read<T>(this.transport, getRequest('entity', key, options, this.name), options);
  }

  async set(key: string, value: T, options?: StorageSetOptions): Promise<StorageEntry<T> | undefined> {
    return write<T>(this.transport, setRequest('entity', key, value as unknown as StorageValue, options, this.name), options);
  }

  async delete(key: string): Promise<void> {
    return remove(this.transport, deleteRequest('entity', key, this.name));
  }

  /**
   * Entries through an index: `partition` values, a `where` condition on its range, in-memory `filters`.
   * Checked when called (a bad index name or condition throws `storage/invalid-request` at once).
   */
  query(options: StorageEntityQueryOptions): StorageQuery<T> {
    entityQueryRequest(this.name, options, options.cursor);
    return new StorageQuery<T>(async (cursor) => pageOf<T>(await this.transport.send(entityQueryRequest(this.name, options, cursor))), options.cursor);
  }
}

/**
 * A transaction being built: `set`, `delete` and `check` operations that all succeed or all fail
 * (`storage/conflict` when a condition does not hold), sent by `execute()`.
 */
export class ForgeStorageTransaction {
  private readonly request: Required<StorageTransactionRequest> = { set: [], delete: [], check: [] };

  constructor(private readonly transport: StorageTransport) {}

  /** Sets a key-value entry, or an entity's (`entity`), optionally only when `entity.conditions` hold. */
  set(key: string, value: StorageValue, entity?: { name: string; conditions?: StorageFilters }, options?: { ttl?: StorageTtl }): this {
    this.request.set.push({
      key,
      value,
      ...(entity !== undefined && { entityName: entity.name }),
      ...(entity?.conditions !== undefined && { conditions: entity.conditions }),
      ...(options?.ttl !== undefined && { options: { ttl: options.ttl } }),
    });
    return this;
  }

  /** Deletes a key (whether or not it exists), optionally only when the entity's conditions hold. */
  delete(key: string, entity?: { name: string; conditions?: StorageFilters }): this {
    this.request.delete.push({ key, ...(entity !== undefined && { entityName: entity.name }), ...(entity?.conditions !== undefined && { conditions: entity.conditions }) });
    return this;
  }

  /** Fails the whole transaction unless the entity at `key` meets the conditions. */
  check(key: string, entity: { name: string; conditions: StorageFilters }): this {
    this.request.check.push({ key, entityName: entity.name, conditions: entity.conditions });
    return this;
  }

  /** Sends it (checked first: 1 to 25 operations, each key once, 4 MB). Never retried. */
  async execute(): Promise<void> {
    const { set, delete: deletes, check } = this.request;
    await this.transport.send(transactionRequest({ ...(set.length > 0 && { set }), ...(deletes.length > 0 && { delete: deletes }), ...(check.length > 0 && { check }) }));
  }
}

/**
 * Forge hosted storage of one installation: key-value entries, secrets, custom entities, batches and
 * transactions, through the storage REST API with the installation's app system token. Get one from
 * `ForgeStorage.forInstallation()`. Every request is checked against the documented limits first; a
 * failure is a `ForgeStorageError` (`storage/*`).
 */
export class ForgeStorageHandle {
  constructor(private readonly transport: StorageTransport) {}

  /** The value of `key`, or `undefined` when there is none; with `metadataFields`, the entry. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  get<T = unknown>(key: string, options: StorageGetOptions & { metadataFields: readonly unknown[] }): Promise<StorageEntry<T> | undefined>;
  async get<T = unknown>(key: string, options?: StorageGetOptions): Promise<T | StorageEntry<T> | undefined> {
    return read<T>(this.transport, getRequest('kvs', key, options), options);
  }

  /** Stores a JSON value (last write wins unless `keyPolicy: 'FAIL_IF_EXISTS'`, then `storage/conflict`). */
  async set<T extends StorageValue = StorageValue>(key: string, value: T, options?: StorageSetOptions): Promise<StorageEntry<T> | undefined> {
    return write<T>(this.transport, setRequest('kvs', key, value, options), options);
  }

  /** Deletes `key`; done also when it did not exist. */
  async delete(key: string): Promise<void> {
    return remove(this.transport, deleteRequest('kvs', key));
  }

  /** Key-value entries (not secrets), by key, optionally under a `prefix`; iterate it or take a `page()`. */
  query<T = unknown>(options: StorageQueryOptions = {}): StorageQuery<T> {
    queryRequest(options, options.cursor);
    return new StorageQuery<T>(async (cursor) => pageOf<T>(await this.transport.send(queryRequest(options, cursor))), options.cursor);
  }

  /** A secret (stored encrypted by Forge, never returned by `query`), or `undefined`. */
  async getSecret<T = unknown>(key: string): Promise<T | undefined> {
    return (await read<T>(this.transport, getRequest('secret', key), undefined)) as T | undefined;
  }

  async setSecret<T extends StorageValue = StorageValue>(key: string, value: T, options?: StorageSetOptions): Promise<StorageEntry<T> | undefined> {
    return write<T>(this.transport, setRequest('secret', key, value, options), options);
  }

  async deleteSecret(key: string): Promise<void> {
    return remove(this.transport, deleteRequest('secret', key));
  }

  /** Sets up to 25 key-value or entity entries; each may fail on its own (`failedKeys`). */
  async batchSet(items: readonly StorageBatchSetItem[]): Promise<StorageBatchResult> {
    return batchResultOf(await this.transport.send(batchSetRequest(items)));
  }

  /** Reads up to 25 entries; missing ones are in `failedKeys`. */
  async batchGet<T = unknown>(items: readonly StorageBatchKey[], options?: StorageGetOptions): Promise<StorageBatchGetResult<T>> {
    return batchResultOf(await this.transport.send(batchKeysRequest('get', items, options))) as StorageBatchGetResult<T>;
  }

  /** Deletes up to 25 entries. */
  async batchDelete(items: readonly StorageBatchKey[]): Promise<StorageBatchResult> {
    return batchResultOf(await this.transport.send(batchKeysRequest('delete', items)));
  }

  /** One custom entity (defined in the manifest's `app.storage.entities`). */
  entity<T extends object = Record<string, unknown>>(name: string): ForgeStorageEntity<T> {
    return new ForgeStorageEntity<T>(this.transport, name);
  }

  /** A transaction to build and `execute()`. */
  transaction(): ForgeStorageTransaction {
    return new ForgeStorageTransaction(this.transport);
  }
}

function batchResultOf(body: unknown): StorageBatchResult {
  const record = (body ?? {}) as Partial<StorageBatchResult>;
  return { successfulKeys: Array.isArray(record.successfulKeys) ? record.successfulKeys : [], failedKeys: Array.isArray(record.failedKeys) ? record.failedKeys : [] };
}
