import { readFileSync } from 'node:fs';
import type { ScaffoldHttpAdapter } from './scaffold-options.js';

/** What the generator takes from this package's own package.json. */
export interface FrameworkManifest {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  /** The packages the framework runs on that the app installs (NestJS, TypeORM, …), with the ranges it supports. */
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  /** `engines.node`, e.g. `>=20.19`. */
  node: string | undefined;
}

/** The framework's peers an app must install: it runs on the app's NestJS, TypeORM and pg. */
export const FRAMEWORK_PEERS = ['@nestjs/common', '@nestjs/core', '@nestjs/typeorm', 'pg', 'reflect-metadata', 'rxjs', 'typeorm'] as const;

/**
 * The framework's optional peers, all of which a generated app installs: it runs on the embedded engine
 * unless `DATABASE_URL` is set (pglite and pglite-socket), and schedules the retention purge
 * (`@nestjs/schedule`).
 */
export const APP_OPTIONAL_PEERS = ['@electric-sql/pglite', '@electric-sql/pglite-socket', '@nestjs/schedule'] as const;

/**
 * Runtime dependencies of a generated app besides the framework and its HTTP adapter: the framework's
 * peers, listed explicitly. The framework's own dependencies (jose) come with the framework.
 */
export const APP_DEPENDENCIES = [...APP_OPTIONAL_PEERS, ...FRAMEWORK_PEERS].sort() as readonly string[];

/**
 * The package of each HTTP adapter (`new --adapter`). A generated app depends on the one it runs on only,
 * at the version this repository develops with (it has both: the example app runs on either). The
 * framework itself imports neither, so an app can switch by swapping the package.
 */
export const HTTP_ADAPTER_PACKAGES: Readonly<Record<ScaffoldHttpAdapter, string>> = {
  fastify: '@nestjs/platform-fastify',
  express: '@nestjs/platform-express',
};

/** Development dependencies of a generated app: TypeScript, jest in ESM mode, types. */
export const APP_DEV_DEPENDENCIES = ['@nestjs/testing', '@types/jest', '@types/node', '@types/pg', 'jest', 'ts-jest', 'typescript'] as const;

/** The dependency versions a generated app pins: the ones this framework is built and tested with. */
export interface ScaffoldVersions {
  /** This framework's version (the default dependency is `^<version>`). */
  framework: string;
  /** The Node.js versions the app runs on (the framework's `engines.node`). */
  node: string;
  /** The adapter {@link HTTP_ADAPTER_PACKAGES} names is among `dependencies`, and no other adapter. */
  adapter: ScaffoldHttpAdapter;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

/**
 * Reads this package's package.json: `../../../package.json` from here is the package root both in
 * `src/connect/scaffold` (tests) and in `dist/connect/scaffold` (the installed package), and npm always
 * packs package.json.
 */
export function readFrameworkManifest(url: URL = new URL('../../../package.json', import.meta.url)): FrameworkManifest {
  const manifest = JSON.parse(readFileSync(url, 'utf8')) as Partial<Omit<FrameworkManifest, 'node'>> & { engines?: { node?: string } };
  return {
    name: String(manifest.name),
    version: String(manifest.version),
    dependencies: manifest.dependencies ?? {},
    peerDependencies: manifest.peerDependencies ?? {},
    devDependencies: manifest.devDependencies ?? {},
    node: manifest.engines?.node,
  };
}

/**
 * Picks the versions a generated app on `adapter` needs from the framework's manifest (a peer at the
 * range the framework declares for it, the rest, the adapter's package included, as this repository
 * develops with them); throws if one is missing.
 */
export function scaffoldVersions(manifest: FrameworkManifest, adapter: ScaffoldHttpAdapter): ScaffoldVersions {
  const all = { ...manifest.devDependencies, ...manifest.dependencies, ...manifest.peerDependencies };
  const pick = (names: readonly string[]): Record<string, string> => {
    const missing = names.filter((name) => typeof all[name] !== 'string');
    if (missing.length > 0) throw new Error(`${manifest.name}'s package.json does not name a version of ${missing.join(', ')}.`);
    return Object.fromEntries(names.map((name) => [name, all[name]!]));
  };
  if (!/^\d+\.\d+\.\d+/.test(manifest.version)) throw new Error(`${manifest.name}'s package.json has no usable version (${JSON.stringify(manifest.version)}).`);
  return {
    framework: manifest.version,
    node: manifest.node ?? '>=20.19',
    adapter,
    dependencies: pick([...APP_DEPENDENCIES, HTTP_ADAPTER_PACKAGES[adapter]].sort()),
    devDependencies: pick(APP_DEV_DEPENDENCIES),
  };
}
