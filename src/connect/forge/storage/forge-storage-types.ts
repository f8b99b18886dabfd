/**
 * The shapes of Forge's hosted storage REST API, as `ForgeStorage` exposes them.
 *
 * Sources (Atlassian's Forge docs, snapshot of 2026): "Accessing Forge storage from a remote via REST
 * API" (platform/forge/remote/accessing-storage: base URL, bearer system token, `{ code, message }`
 * errors, 429 `RATE_LIMIT_EXCEEDED`), the REST reference "KVS/Custom Entity Store API" and its Postman
 * collection (platform/forge/rest/v1/api-group-key-value-store, forge.postman.json: the operations
 * `v1/get|set|delete|query`, `v1/secret/*`, `v1/entity/*`, `v1/batch/*`, `v1/transaction`, all POST
 * with JSON bodies), "Storing unencrypted key-value pairs" (storage-reference/kvs-api: set options
 * `ttl`, `keyPolicy`, `returnValue`, `returnMetadataFields`; get `metadataFields`), "Querying the
 * Custom Entity Store" (storage-reference/entities-api-query: `index`, `partition`, `where` range
 * conditions, `and`/`or` filters, `sort`, `limit`, cursors), "Executing batch operations"
 * (storage-reference/kvs-batch), "Executing KVS transactions" / "Custom Entity Store transactions"
 * (storage-reference/kvs-transactions, entities-transactions) and "KVS and Custom Entity Store limits"
 * (limits-kvs-ce). Field names of the request bodies follow those pages; where a page is silent the
 * conservative choice is written next to it.
 */

/** A value the storage keeps: JSON (strings, numbers, booleans, arrays, objects; `null` only inside). */
export type StorageJsonValue = string | number | boolean | null | StorageJsonValue[] | { [key: string]: StorageJsonValue };

/** What a top-level stored value may be (the API takes `string | boolean | number | array | object`). */
export type StorageValue = string | number | boolean | StorageJsonValue[] | { [key: string]: StorageJsonValue };

/** Metadata a read (or a `returnValue` write) may ask for. */
export type StorageMetadataField = 'CREATED_AT' | 'UPDATED_AT' | 'EXPIRE_TIME';

/** A relative time-to-live; at most one year (`ttl`). */
export interface StorageTtl {
  readonly value: number;
  readonly unit: 'SECONDS' | 'MINUTES' | 'HOURS' | 'DAYS';
}

/** Options of `get`, `getSecret` and `entity().get`. */
export interface StorageGetOptions {
  /** Also return these metadata fields (`createdAt`/`updatedAt` are epoch ms, `expireTime` ISO-8601). */
  readonly metadataFields?: readonly StorageMetadataField[] | undefined;
}

/** Options of `set`, `setSecret` and `entity().set`. */
export interface StorageSetOptions {
  readonly ttl?: StorageTtl | undefined;
  /** `FAIL_IF_EXISTS`: refuse (`storage/conflict`) when the key exists. Default: last write wins. */
  readonly keyPolicy?: 'OVERRIDE' | 'FAIL_IF_EXISTS' | undefined;
  /** Return the value written (`LATEST`) or the one overwritten (`PREVIOUS`); not with `FAIL_IF_EXISTS`. */
  readonly returnValue?: 'PREVIOUS' | 'LATEST' | undefined;
  /** With `returnValue`: metadata to return as well. */
  readonly returnMetadataFields?: readonly StorageMetadataField[] | undefined;
}

/** A stored entry with the metadata asked for. */
export interface StorageEntry<T> {
  readonly key: string;
  readonly value: T;
  readonly createdAt?: number;
  readonly updatedAt?: number;
  readonly expireTime?: string;
}

/** One page of a query. `nextCursor` is absent on the last page; do not persist it (cursors are not stable). */
export interface StoragePage<T> {
  readonly results: readonly StorageEntry<T>[];
  readonly nextCursor?: string | undefined;
}

/** The condition names of the API (`where` takes the range ones, filters and transactions all). */
export type StorageConditionName =
  | 'BEGINS_WITH'
  | 'BETWEEN'
  | 'EQUAL_TO'
  | 'NOT_EQUAL_TO'
  | 'GREATER_THAN'
  | 'GREATER_THAN_EQUAL_TO'
  | 'LESS_THAN'
  | 'LESS_THAN_EQUAL_TO'
  | 'CONTAINS'
  | 'NOT_CONTAINS'
  | 'EXISTS'
  | 'NOT_EXISTS';

/** A condition as the API takes it: `{ condition, values }` (build one with `StorageConditions`). */
export interface StorageCondition {
  readonly condition: StorageConditionName;
  readonly values: readonly (string | number | boolean)[];
}

/** A condition on one attribute of an entity. */
export interface StorageFilter extends StorageCondition {
  readonly property: string;
}

/** `and`: every filter must match; `or`: at least one. One of the two, not both. */
export type StorageFilters = { readonly and: readonly StorageFilter[] } | { readonly or: readonly StorageFilter[] };

/** Options of the key-value `query`. */
export interface StorageQueryOptions {
  /** Only keys that begin with this (the API's single `where` on `key` with `BEGINS_WITH`). */
  readonly prefix?: string | undefined;
  /** Entries per request, 1 to 20 (default: the API's, 10). */
  readonly pageSize?: number | undefined;
  /** Start after this cursor (from an earlier page of the same query). */
  readonly cursor?: string | undefined;
  readonly metadataFields?: readonly StorageMetadataField[] | undefined;
}

/** Options of `entity(name).query`. */
export interface StorageEntityQueryOptions {
  /** The index to query: one defined in the manifest, or `by-key`. */
  readonly index: string;
  /** One value per partition attribute of the index, in the order the manifest declares them. */
  readonly partition?: readonly (string | number | boolean)[] | undefined;
  /** A condition on the index's range: `beginsWith`, `between`, `equalTo`, `greaterThan(EqualTo)`, `lessThan(EqualTo)`. */
  readonly where?: StorageCondition | undefined;
  /** In-memory filters on attributes (a page may come back empty with a cursor to the next one). */
  readonly filters?: StorageFilters | undefined;
  readonly sort?: 'ASC' | 'DESC' | undefined;
  /** Entries per request, 1 to 100 (default: the API's, 10). */
  readonly pageSize?: number | undefined;
  readonly cursor?: string | undefined;
  readonly metadataFields?: readonly StorageMetadataField[] | undefined;
}

/** One item of `batchSet`: a key-value entry, or an entity when `entityName` is given. */
export interface StorageBatchSetItem {
  readonly key: string;
  readonly value: StorageValue;
  readonly entityName?: string | undefined;
  readonly options?: { readonly ttl?: StorageTtl | undefined } | undefined;
}

/** One item of `batchGet` / `batchDelete`. */
export interface StorageBatchKey {
  readonly key: string;
  readonly entityName?: string | undefined;
}

/** What a batch did: it completes as many items as it can. */
export interface StorageBatchResult {
  readonly successfulKeys: readonly { readonly key: string; readonly entityName?: string }[];
  readonly failedKeys: readonly { readonly key: string; readonly entityName?: string; readonly error: { readonly code: string; readonly message: string } }[];
}

/** What `batchGet` found. */
export interface StorageBatchGetResult<T> {
  readonly successfulKeys: readonly (StorageEntry<T> & { readonly entityName?: string })[];
  readonly failedKeys: StorageBatchResult['failedKeys'];
}

/** The request body of `v1/transaction`. */
export interface StorageTransactionRequest {
  set?: { key: string; value: StorageValue; entityName?: string; conditions?: StorageFilters; options?: { ttl?: StorageTtl } }[];
  delete?: { key: string; entityName?: string; conditions?: StorageFilters }[];
  check?: { key: string; entityName: string; conditions: StorageFilters }[];
}
