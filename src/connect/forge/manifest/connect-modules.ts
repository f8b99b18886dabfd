import type { ConnectProduct } from '../../config/connect-product.js';
import { ConnectError } from '../../errors/connect-error.js';

/** The key given to the lifecycle entry (Connect's `lifecycle` has none; the manifest needs one). */
export const CONNECT_LIFECYCLE_MODULE_KEY = 'connect-lifecycle';

const MODULE_KEY = /^[a-zA-Z0-9_-]+$/;
const MODULE_TYPE = /^[a-zA-Z][a-zA-Z0-9]*$/;

/**
 * A served Connect descriptor's modules as the manifest's `connectModules`: each descriptor module type
 * becomes `<product>:<type>` with its entries' fields unchanged (the manifest reference: "names and
 * fields map 1:1 to Connect descriptor modules"), and the descriptor's `lifecycle` becomes the one entry
 * of `<product>:lifecycle`. A module given as one object (`postInstallPage`, `configurePage`) becomes a
 * list of one; an entry without a key (webhooks have none) gets `<type>-<n>`, as every manifest module
 * needs a key unique within the manifest.
 */
export function connectModulesOf(descriptor: Readonly<Record<string, unknown>>, product: ConnectProduct, appKey: string): Record<string, Record<string, unknown>[]> {
  const fail = (message: string) => ConnectError.create('forge/invalid-manifest', `The descriptor of "${appKey}": ${message}`);
  const result: Record<string, Record<string, unknown>[]> = {};
  const lifecycle = descriptor.lifecycle;
  if (lifecycle !== undefined) {
    if (!isObject(lifecycle)) throw fail('lifecycle is not an object.');
    result[`${product}:lifecycle`] = [{ key: CONNECT_LIFECYCLE_MODULE_KEY, ...lifecycle }];
  }
  const modules = descriptor.modules ?? {};
  if (!isObject(modules)) throw fail('modules is not an object.');
  for (const [type, value] of Object.entries(modules)) {
    if (!MODULE_TYPE.test(type) || type === 'lifecycle') throw fail(`${JSON.stringify(type)} is not a Connect module type.`);
    const entries = Array.isArray(value) ? (value as unknown[]) : [value];
    result[`${product}:${type}`] = entries.map((entry, index) => {
      if (!isObject(entry)) throw fail(`modules.${type}[${index}] is not an object.`);
      const key = entry.key ?? `${type}-${index + 1}`;
      if (typeof key !== 'string' || !MODULE_KEY.test(key))
        throw fail(`modules.${type}[${index}] has the key ${JSON.stringify(key)}; a manifest key is 1 or more of a-z A-Z 0-9 _ -.`);
      return { ...entry, key };
    });
  }
  return result;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
