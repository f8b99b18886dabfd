import { buildDescriptor } from '../descriptor/build-descriptor.js';
import { ConnectError } from '../errors/connect-error.js';
import { isForgeAppId } from '../forge/forge-app-id.js';
import { allowedHostPatternsOption } from './allowed-host-patterns.js';
import { CONNECT_DEFAULTS } from './connect-defaults.js';
import type { ConnectAppOptions } from './connect-options.js';
import { isConnectProduct } from './connect-product.js';
import type { ResolvedConnectApp } from './resolved-connect-app.js';

const APP_KEY = /^[a-zA-Z0-9._-]{1,64}$/;
/**
 * The baseUrl path becomes part of the routes registered on the HTTP adapter, whose route patterns
 * give `:`, `*`, `(`, `)`, `[`, `]`, `+`, `?` and `!` a meaning (`/a:b` would serve every `/a…` path,
 * `/*x` every path, `/x(y)` fails with a parser error). Only characters that are literal there pass.
 */
const ROUTE_SAFE_PATH = /^[A-Za-z0-9\-._~%$&',;=@/]*$/;

/**
 * Checks the apps' options and resolves each into a `ResolvedConnectApp` (a descriptor function is
 * called here, once per resolution); throws `config/invalid`.
 */
export function resolveConnectApps(apps: readonly ConnectAppOptions[] | undefined): readonly ResolvedConnectApp[] {
  if (!Array.isArray(apps) || apps.length === 0) {
    throw ConnectError.create('config/invalid', 'ConnectModule needs at least one app in `apps`.');
  }
  const resolved = apps.map(resolveApp);
  assertUnique(
    resolved.map((app) => app.key),
    'key',
  );
  assertUnique(
    resolved.map((app) => `${app.hostname}${app.basePath}`),
    'baseUrl',
  );
  assertUnique(
    resolved.flatMap((app) => (app.forgeAppId === undefined ? [] : [app.forgeAppId])),
    'Forge app id',
  );
  return Object.freeze(resolved);
}

function resolveApp(options: ConnectAppOptions): ResolvedConnectApp {
  const key = options?.key;
  if (typeof key !== 'string' || !APP_KEY.test(key)) {
    throw ConnectError.create('config/invalid', `App key ${JSON.stringify(key)} is not valid: use 1 to 64 characters of a-z, A-Z, 0-9, ".", "_" and "-".`);
  }
  if (!isConnectProduct(options.product)) {
    throw ConnectError.create('config/invalid', `App "${key}" has product ${JSON.stringify(options.product)}; use "jira" or "confluence".`);
  }
  const url = parseBaseUrl(key, options.baseUrl);
  if (!ROUTE_SAFE_PATH.test(url.pathname)) {
    throw ConnectError.create(
      'config/invalid',
      `App "${key}" has baseUrl ${url.href}; its path may only use letters, digits and - . _ ~ % $ & ' , ; = @ (others such as : * ( ) + ! have a meaning in route patterns).`,
    );
  }
  const baseUrl = withoutTrailingSlash(url.origin + url.pathname);
  const audiences = [baseUrl, ...(options.extraBaseUrls ?? []).map((extra) => withoutTrailingSlash(parseBaseUrl(key, extra).href))];
  const connect = connectOf(key, options);
  const app = {
    key,
    product: options.product,
    connect,
    baseUrl,
    hostname: url.hostname.toLowerCase(),
    basePath: withoutTrailingSlash(url.pathname),
    audiences: [...new Set(audiences)],
    allowedHostPatterns: allowedHostPatternsOption(key, options.allowedHostPatterns ?? CONNECT_DEFAULTS.apps.allowedHostPatterns),
    ...(options.forge !== undefined && { forgeAppId: forgeAppIdOf(key, options.forge) }),
  };
  if (!connect) return Object.freeze({ ...app, descriptor: null });
  const input = typeof options.descriptor === 'function' ? options.descriptor(app) : options.descriptor;
  if (input === undefined) {
    throw ConnectError.create('config/invalid', `App "${key}" has no descriptor; give one, or \`connect: false\` (with \`forge.appId\`) for a Forge-only app.`);
  }
  return Object.freeze({ ...app, descriptor: Object.freeze(buildDescriptor(key, baseUrl, input)) });
}

/** Whether the app has a Connect part; a Forge-only one (`connect: false`) must be a Forge app and have no descriptor. */
function connectOf(key: string, options: ConnectAppOptions): boolean {
  const connect = options.connect ?? true;
  if (typeof connect !== 'boolean') throw ConnectError.create('config/invalid', `App "${key}" has connect ${JSON.stringify(connect)}; use true or false.`);
  if (connect) return true;
  if (options.forge === undefined) {
    throw ConnectError.create('config/invalid', `App "${key}" has \`connect: false\` but no \`forge.appId\`: a Forge-only app is a Forge app.`);
  }
  if (options.descriptor !== undefined) {
    throw ConnectError.create('config/invalid', `App "${key}" has \`connect: false\` and a descriptor; a Forge-only app serves none, so remove it.`);
  }
  return false;
}

function forgeAppIdOf(key: string, forge: unknown): string {
  const appId = (forge as { appId?: unknown } | null)?.appId;
  if (!isForgeAppId(appId)) {
    throw ConnectError.create(
      'config/invalid',
      `App "${key}" has forge.appId ${JSON.stringify(appId)}; use the Forge app's UUID in lower case (the part after "ari:cloud:ecosystem::app/" of the id in manifest.yml).`,
    );
  }
  return appId;
}

function parseBaseUrl(key: string, value: unknown): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw ConnectError.create('config/invalid', `App "${key}" has baseUrl ${JSON.stringify(value)}, which is not an absolute URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw ConnectError.create('config/invalid', `App "${key}" has baseUrl ${url.href}; only http(s) URLs can be installed.`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw ConnectError.create('config/invalid', `App "${key}" has baseUrl ${url.href}; a baseUrl carries no query, fragment or credentials.`);
  }
  return url;
}

function withoutTrailingSlash(value: string): string {
  return value.replace(/\/+$/, '');
}

function assertUnique(values: string[], what: string): void {
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) throw ConnectError.create('config/invalid', `Two apps share the ${what} ${JSON.stringify(value)}; each app needs its own.`);
    seen.add(value);
  }
}
