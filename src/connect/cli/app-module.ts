import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DynamicModule, LoggerService, Type } from '@nestjs/common';
import { ConnectError } from '../errors/connect-error.js';
import { ForgeManifestBuilder } from '../forge/manifest/forge-manifest-builder.js';
import type { ForgeManifestOptions, ForgeManifestResult } from '../forge/manifest/forge-manifest.js';
import type { CliIo } from './cli-io.js';

/**
 * Boots the user's module as an application context (no HTTP; the database is opened) and builds the
 * Connect-on-Forge manifest of `appKey` from it (`manifest`, and `doctor --module`). Closes it again.
 */
export async function buildManifestOfModule(spec: string, appKey: string, options: ForgeManifestOptions, io: CliIo): Promise<ForgeManifestResult> {
  const root = await loadRootModule(spec);
  // Loaded only now: the command list stays cheap, and Nest is the user's own peer dependency.
  const { NestFactory } = await import('@nestjs/core');
  const context = await NestFactory.createApplicationContext(root, { logger: stderrLogger(io), abortOnError: false });
  try {
    return context.get(ForgeManifestBuilder, { strict: false }).buildForgeManifest(appKey, options);
  } finally {
    await context.close().catch(() => undefined);
  }
}

/** A failure as one line: the typed code when it has one. */
export function describeFailure(error: unknown): string {
  return error instanceof ConnectError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
}

/** `<file>[#export]` → the root module: a module class, a DynamicModule, or what a factory function returns. */
export async function loadRootModule(spec: string): Promise<Type<unknown> | DynamicModule> {
  const hash = spec.lastIndexOf('#');
  const file = hash > 0 ? spec.slice(0, hash) : spec;
  const name = hash > 0 ? spec.slice(hash + 1) : 'default';
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`--module ${file} could not be loaded: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const exported = loaded[name];
  if (exported === undefined) throw new Error(`--module ${file} has no export ${JSON.stringify(name)} (exports: ${Object.keys(loaded).join(', ') || 'none'}).`);
  const value = typeof exported === 'function' && !isClass(exported) ? await (exported as () => unknown)() : exported;
  if (isClass(value)) return value as Type<unknown>;
  if (value !== null && typeof value === 'object' && isClass((value as { module?: unknown }).module)) return value as DynamicModule;
  throw new Error(`--module ${spec} is not a Nest module: export a module class, a DynamicModule, or a function returning one.`);
}

function isClass(value: unknown): boolean {
  return typeof value === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(value));
}

/** Nest's own logger writes to standard output, where the YAML may go: route everything to stderr. */
function stderrLogger(io: CliIo): LoggerService {
  const write =
    (level: string) =>
    (message: unknown, ...rest: unknown[]) => {
      const context = typeof rest.at(-1) === 'string' ? ` [${String(rest.at(-1))}]` : '';
      io.err(`${level}${context} ${message instanceof Error ? message.message : String(message)}`);
    };
  return { log: () => undefined, verbose: () => undefined, debug: () => undefined, warn: write('WARN'), error: write('ERROR'), fatal: write('FATAL') };
}
