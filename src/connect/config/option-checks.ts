import { ConnectError } from '../errors/connect-error.js';

/**
 * The checks every numeric or boolean option goes through, with one wording: the option's full name,
 * what it must be, and what it was. All throw `config/invalid`.
 */

/** An integer from `min` to `max` (both included). */
export function integerOption(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw ConnectError.create('config/invalid', `${name} must be an integer ${range(min, max)}, not ${shown(value)}.`);
  }
  return value;
}

/** A finite number from `min` to `max` (both included). */
export function numberOption(name: string, value: unknown, min: number, max = Number.MAX_VALUE): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw ConnectError.create('config/invalid', `${name} must be a number ${range(min, max)}, not ${shown(value)}.`);
  }
  return value;
}

export function booleanOption(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw ConnectError.create('config/invalid', `${name} must be true or false, not ${shown(value)}.`);
  return value;
}

/** A plain object (or `undefined`, read as `{}`): the shape of every group of options. */
export function groupOption<T extends object>(name: string, value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw ConnectError.create('config/invalid', `${name} must be an object, not ${shown(value)}.`);
  }
  return value;
}

/** How a bad value appears in a message: JSON where it has one, else its type. */
export function shown(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') return `a ${typeof value}`;
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    return `a ${typeof value}`;
  }
}

function range(min: number, max: number): string {
  if (max >= Number.MAX_SAFE_INTEGER) return min === 1 ? '(1 or more)' : `of at least ${min}`;
  return `from ${min} to ${max}`;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A PostgreSQL schema name the framework quotes safely: a lower-case SQL identifier. */
export function schemaNameOption(name: string, value: unknown): string {
  if (typeof value !== 'string' || !SCHEMA_NAME.test(value)) {
    throw ConnectError.create('config/invalid', `${name} must be a lower-case SQL identifier ([a-z_][a-z0-9_]*, at most 63 characters), not ${shown(value)}.`);
  }
  return value;
}
