import { basename, resolve } from 'node:path';
import { CONNECT_PRODUCTS, isConnectProduct, type ConnectProduct } from '../config/connect-product.js';

/** The package managers `new` writes instructions for. */
export const SCAFFOLD_PACKAGE_MANAGERS = ['npm'] as const;
export type ScaffoldPackageManager = (typeof SCAFFOLD_PACKAGE_MANAGERS)[number];

/** The Nest HTTP adapters a generated app can run on (`--adapter`); the first is the default. */
export const SCAFFOLD_HTTP_ADAPTERS = ['fastify', 'express'] as const;
export type ScaffoldHttpAdapter = (typeof SCAFFOLD_HTTP_ADAPTERS)[number];

/** Descriptor key rules (the same as `ConnectModule`'s): 1 to 64 characters of a-z, A-Z, 0-9, ".", "_", "-". */
export const APP_KEY_PATTERN = /^[a-zA-Z0-9._-]{1,64}$/;
export const MAX_APP_KEY_LENGTH = 64;
/** Longest app name accepted (it is the descriptor's `name` and the page title). */
export const MAX_APP_NAME_LENGTH = 80;
/** npm's limit on a package name. */
const MAX_PACKAGE_NAME_LENGTH = 214;

/** What the user asked for, as given on the command line (`undefined` = not given). */
export interface ScaffoldInput {
  /** The target directory (relative to `cwd` or absolute). */
  directory: string;
  /** Comma-separated products, e.g. `jira,confluence` (default both). */
  products?: string | undefined;
  /** The app's human-readable name (default: from the directory name, "my-app" → "My App"). */
  name?: string | undefined;
  /** Key prefix; the apps get `<prefix>.jira` and `<prefix>.confluence` (default `com.example.<directory name>`). */
  keyPrefix?: string | undefined;
  packageManager?: string | undefined;
  /** The Nest HTTP adapter the app runs on: `fastify` (the default) or `express`. */
  adapter?: string | undefined;
  /** What the generated package.json depends on for `atlassian-connect-nest` (default `^<this version>`). */
  frameworkSpec?: string | undefined;
}

/** One app of the generated project. */
export interface ScaffoldApp {
  product: ConnectProduct;
  /** `<keyPrefix>.<product>` */
  key: string;
  /** The app's baseUrl path: `/jira` or `/confluence`. */
  path: string;
}

/** Checked options: everything the generator needs besides dependency versions. */
export interface ScaffoldOptions {
  /** Absolute target directory. */
  directory: string;
  /** The generated package's name (from the directory name). */
  packageName: string;
  name: string;
  keyPrefix: string;
  /** In the order of {@link CONNECT_PRODUCTS}, without duplicates. */
  apps: ScaffoldApp[];
  packageManager: ScaffoldPackageManager;
  adapter: ScaffoldHttpAdapter;
  frameworkSpec: string | undefined;
}

/** The input is not usable; `problems` says why, one sentence each. */
export class ScaffoldOptionsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join(' '));
    this.name = 'ScaffoldOptionsError';
  }
}

/**
 * Checks the input and fills in defaults; throws {@link ScaffoldOptionsError} listing every problem.
 * Pure apart from resolving `directory` against `cwd`: it never touches the file system.
 */
export function resolveScaffoldOptions(input: ScaffoldInput, cwd: string): ScaffoldOptions {
  const problems: string[] = [];
  if (input.directory.trim() === '') problems.push('The target directory is empty; name one, e.g. `new my-app`.');
  const directory = resolve(cwd, input.directory);
  const base = basename(directory);

  const products = parseProducts(input.products, problems);

  const packageName = packageNameFrom(base);

  const name = input.name ?? titleFrom(base);
  const nameProblem = appNameProblem(name);
  if (nameProblem !== undefined)
    problems.push(input.name === undefined ? `${nameProblem} (The name comes from the directory name ${JSON.stringify(base)}; pass --name.)` : nameProblem);

  const keyPrefix = input.keyPrefix ?? `com.example.${packageName.replace(/[^a-zA-Z0-9._-]/g, '')}`;
  const keyProblem = keyPrefixProblem(keyPrefix, products);
  if (keyProblem !== undefined)
    problems.push(input.keyPrefix === undefined ? `${keyProblem} (The prefix comes from the directory name ${JSON.stringify(base)}; pass --key-prefix.)` : keyProblem);

  const packageManager = input.packageManager ?? 'npm';
  if (!(SCAFFOLD_PACKAGE_MANAGERS as readonly string[]).includes(packageManager)) {
    problems.push(`--package-manager ${JSON.stringify(packageManager)} is not supported; use ${SCAFFOLD_PACKAGE_MANAGERS.join(' or ')}.`);
  }

  const adapter = (input.adapter ?? SCAFFOLD_HTTP_ADAPTERS[0]).trim().toLowerCase();
  if (!isScaffoldHttpAdapter(adapter)) {
    problems.push(`--adapter ${JSON.stringify(input.adapter)} is not supported; use ${SCAFFOLD_HTTP_ADAPTERS.join(' or ')}.`);
  }

  if (input.frameworkSpec !== undefined && (input.frameworkSpec.trim() === '' || /[\s"\\]/.test(input.frameworkSpec))) {
    problems.push('--framework-spec must be a non-empty npm dependency spec without spaces or quotes.');
  }

  if (problems.length > 0) throw new ScaffoldOptionsError(problems);
  return {
    directory,
    packageName,
    name,
    keyPrefix,
    apps: products.map((product) => ({ product, key: `${keyPrefix}.${product}`, path: `/${product}` })),
    packageManager: packageManager as ScaffoldPackageManager,
    adapter: adapter as ScaffoldHttpAdapter,
    frameworkSpec: input.frameworkSpec,
  };
}

function isScaffoldHttpAdapter(value: string): value is ScaffoldHttpAdapter {
  return (SCAFFOLD_HTTP_ADAPTERS as readonly string[]).includes(value);
}

function parseProducts(text: string | undefined, problems: string[]): ConnectProduct[] {
  if (text === undefined) return [...CONNECT_PRODUCTS];
  const names = text
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part !== '');
  if (names.length === 0) {
    problems.push(`--products needs at least one of ${CONNECT_PRODUCTS.join(', ')}.`);
    return [];
  }
  const unknown = names.filter((part) => !isConnectProduct(part));
  if (unknown.length > 0) {
    problems.push(
      `Unknown product${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => JSON.stringify(u)).join(', ')} in --products; use ${CONNECT_PRODUCTS.join(', ')} (comma-separated).`,
    );
  }
  return CONNECT_PRODUCTS.filter((product) => names.includes(product));
}

/** Why `name` is not a usable app name, or `undefined`. */
export function appNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'The app name is empty; pass --name "My App".';
  if (name !== name.trim()) return `The app name ${JSON.stringify(name)} starts or ends with white space.`;
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name)) return `The app name ${JSON.stringify(name)} contains control characters or line breaks.`;
  if ([...name].length > MAX_APP_NAME_LENGTH) return `The app name is ${[...name].length} characters long; use at most ${MAX_APP_NAME_LENGTH}.`;
  return undefined;
}

/** Why `prefix` cannot prefix the keys of `products`, or `undefined`. */
export function keyPrefixProblem(prefix: string, products: readonly ConnectProduct[]): string | undefined {
  if (prefix === '') return 'The key prefix is empty; pass e.g. --key-prefix com.example.myapp.';
  if (!/^[a-zA-Z0-9._-]+$/.test(prefix)) {
    return `The key prefix ${JSON.stringify(prefix)} is not valid: app keys use only a-z, A-Z, 0-9, ".", "_" and "-".`;
  }
  const longest = products.reduce((max, product) => Math.max(max, product.length + 1), 0);
  const limit = MAX_APP_KEY_LENGTH - longest;
  if (prefix.length > limit) {
    const key = `${prefix}.${products.find((product) => product.length + 1 === longest)}`;
    return `The key prefix is ${prefix.length} characters long, so the app key ${JSON.stringify(key)} would have ${key.length}; app keys have at most ${MAX_APP_KEY_LENGTH} characters (use a prefix of at most ${limit}).`;
  }
  return undefined;
}

/** An npm package name from a directory name: lower case, URL-safe; `connect-app` when nothing is left. */
export function packageNameFrom(directoryName: string): string {
  const slug = directoryName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._~-]+/, '')
    .replace(/-+$/, '')
    .slice(0, MAX_PACKAGE_NAME_LENGTH);
  return slug === '' || slug === 'node_modules' || slug === 'favicon.ico' ? 'connect-app' : slug;
}

/** "my-connect_app" → "My Connect App". */
export function titleFrom(directoryName: string): string {
  return directoryName
    .split(/[\s._-]+/)
    .filter((word) => word !== '')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}
