import type { ConnectProduct } from './connect-product.js';

/** A descriptor as the app author writes it; the framework fills in the protocol fields. */
export type ConnectDescriptorInput = Record<string, unknown>;

/** An app after its options were checked: what every other part of the framework works with. */
export interface ResolvedConnectApp {
  readonly key: string;
  readonly product: ConnectProduct;
  /** The baseUrl without a trailing slash. */
  readonly baseUrl: string;
  /** The baseUrl's host name, lower case, without port. */
  readonly hostname: string;
  /** The baseUrl's path without a trailing slash: `''` or e.g. `/jira`. */
  readonly basePath: string;
  /** Accepted `aud` values of signed installs, without trailing slashes. */
  readonly audiences: readonly string[];
  /** The host patterns lifecycle payloads' site URLs must match, lower case (see `allowedHostPatterns`). */
  readonly allowedHostPatterns: readonly string[];
  /** The Forge app id (`forge.appId`) when the app takes Forge Remote calls; FITs must name it in `aud`. */
  readonly forgeAppId?: string;
  /** `false` for a Forge-only app (`connect: false`): no descriptor, no lifecycle routes, no tenants. */
  readonly connect: boolean;
  /** The complete descriptor served at `<basePath>/atlassian-connect.json`; `null` for a Forge-only app. */
  readonly descriptor: Readonly<Record<string, unknown>> | null;
}

/** Lifecycle URLs relative to the app's baseUrl. */
export const LIFECYCLE_PATHS = {
  installed: '/installed',
  uninstalled: '/uninstalled',
  enabled: '/enabled',
  disabled: '/disabled',
} as const;

export type LifecycleEventName = keyof typeof LIFECYCLE_PATHS;

export const DESCRIPTOR_PATH = '/atlassian-connect.json';
