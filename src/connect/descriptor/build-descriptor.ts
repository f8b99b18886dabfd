import { ConnectError } from '../errors/connect-error.js';
import { LIFECYCLE_PATHS, type ConnectDescriptorInput } from '../config/resolved-connect-app.js';

/** The protocol fields the framework owns in every descriptor. */
export function protocolFields(key: string, baseUrl: string): Record<string, unknown> {
  return {
    key,
    baseUrl,
    authentication: { type: 'jwt' },
    lifecycle: { ...LIFECYCLE_PATHS },
    apiMigrations: { 'signed-install': true, 'context-qsh': true },
  };
}

/**
 * Merges the author's descriptor with the protocol fields. Objects (`lifecycle`, `apiMigrations`) are
 * merged key by key; a value the author gave that differs from ours is a configuration error, because
 * the product would otherwise call routes the framework does not serve, or skip signed installs.
 */
export function buildDescriptor(key: string, baseUrl: string, input: ConnectDescriptorInput): Record<string, unknown> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw ConnectError.create('config/invalid', `The descriptor of app "${key}" must be an object.`);
  }
  let descriptor: Record<string, unknown>;
  try {
    // A function would not clone; a BigInt or a cycle would clone but fail every descriptor request.
    descriptor = structuredClone(input);
    JSON.stringify(descriptor);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw ConnectError.create('config/invalid', `The descriptor of app "${key}" must be plain JSON data: ${reason}`, undefined, error);
  }
  for (const [field, ours] of Object.entries(protocolFields(key, baseUrl))) {
    const theirs = descriptor[field];
    if (theirs === undefined) {
      descriptor[field] = ours;
    } else if (isPlainObject(ours) && isPlainObject(theirs)) {
      for (const [name, value] of Object.entries(ours)) {
        if (theirs[name] !== undefined && theirs[name] !== value) throw conflict(key, `${field}.${name}`, theirs[name], value);
      }
      descriptor[field] = { ...theirs, ...ours };
    } else if (sameValue(field, theirs, ours)) {
      // Serve our (normalised) value: a baseUrl repeated with a trailing slash would otherwise be
      // served as given, and the product would join module URLs onto it as `…/jira//pages/…`.
      descriptor[field] = ours;
    } else {
      throw conflict(key, field, theirs, ours);
    }
  }
  return descriptor;
}

function conflict(key: string, field: string, theirs: unknown, ours: unknown): ConnectError {
  return ConnectError.create(
    'config/invalid',
    `The descriptor of app "${key}" sets ${field} to ${JSON.stringify(theirs)}, but the framework serves ${JSON.stringify(ours)}. Remove the field and let the framework fill it in.`,
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Only a URL may differ by a trailing slash: `key: "com.example.app/"` is another key. */
function sameValue(field: string, a: unknown, b: unknown): boolean {
  if (field === 'baseUrl' && typeof a === 'string' && typeof b === 'string') return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
  return JSON.stringify(a) === JSON.stringify(b);
}
