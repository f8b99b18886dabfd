import type { StorageCondition, StorageFilter, StorageFilters } from './forge-storage-types.js';

/** A value a storage condition compares with. */
export type StorageConditionValue = string | number | boolean;
/** A value with an order (for ranges and prefixes). */
export type StorageOrderedValue = string | number;

const condition = (name: StorageCondition['condition'], ...values: StorageConditionValue[]): StorageCondition => Object.freeze({ condition: name, values: Object.freeze(values) });

/**
 * The conditions of the storage API, for `where` (an index's range), entity `filters` and transaction
 * conditions. `where` takes `beginsWith`, `between`, `equalTo`, `greaterThan`, `greaterThanEqualTo`,
 * `lessThan` and `lessThanEqualTo`; filters take them all.
 *
 * @example
 * ```ts
 * storage.entity('task').query({ index: 'by-due', partition: ['open'], where: StorageConditions.lessThan(20260101) });
 * ```
 */
export const StorageConditions = Object.freeze({
  beginsWith: (value: StorageOrderedValue) => condition('BEGINS_WITH', value),
  between: (from: StorageOrderedValue, to: StorageOrderedValue) => condition('BETWEEN', from, to),
  equalTo: (value: StorageConditionValue) => condition('EQUAL_TO', value),
  notEqualTo: (value: StorageConditionValue) => condition('NOT_EQUAL_TO', value),
  greaterThan: (value: StorageOrderedValue) => condition('GREATER_THAN', value),
  greaterThanEqualTo: (value: StorageOrderedValue) => condition('GREATER_THAN_EQUAL_TO', value),
  lessThan: (value: StorageOrderedValue) => condition('LESS_THAN', value),
  lessThanEqualTo: (value: StorageOrderedValue) => condition('LESS_THAN_EQUAL_TO', value),
  contains: (value: string) => condition('CONTAINS', value),
  notContains: (value: string) => condition('NOT_CONTAINS', value),
  exists: () => condition('EXISTS', true),
  notExists: () => condition('NOT_EXISTS', true),
});

/** `and` filters: every one must match. */
export function allOf(...filters: [property: string, condition: StorageCondition][]): StorageFilters {
  return { and: filters.map(([property, c]): StorageFilter => ({ property, ...c })) };
}

/** `or` filters: at least one must match. */
export function anyOf(...filters: [property: string, condition: StorageCondition][]): StorageFilters {
  return { or: filters.map(([property, c]): StorageFilter => ({ property, ...c })) };
}
