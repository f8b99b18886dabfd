import type { webcrypto } from 'node:crypto';
import type { InstallKeyHostRule } from '../config/connect-options.js';
import { FALLBACK_INSTALL_KEY_HOST_NAME, installKeyHostRuleFor, installKeyHostsOption } from '../config/install-key-hosts-option.js';
import type { ResolvedInstallKeyHostRule } from '../config/resolved-connect-options.js';
import { parseInstallKeysBaseUrl } from '../config/url-options.js';
import { HttpInstallKeyResolver, type HttpInstallKeyResolverOptions, type HttpInstallKeyResolverStats } from './http-install-key-resolver.js';
import type { InstallKeyResolver, InstallKeySite } from './install-key-resolver.js';

/** What a `RegionalInstallKeyResolver` is built from; the fetch bounds apply to every rule's resolver. */
export interface RegionalInstallKeyResolverOptions extends Pick<HttpInstallKeyResolverOptions, 'timeoutMs' | 'maxBodyBytes' | 'cacheSize' | 'fetch'> {
  /** The rules, in order (checked as the `installKeyHosts` option is). */
  hosts: readonly InstallKeyHostRule[];
  /** The install keys base URL of sites that no rule matches (the `installKeysUrl` option). */
  fallbackUrl: string;
}

/** The key hosts one site's installs are verified against. */
export interface InstallKeyHostChoice {
  /** The rule's name, or `fallback` for the fallback URL. */
  readonly name: string;
  /** The base URLs, in the order they are asked. */
  readonly urls: readonly string[];
}

/**
 * Resolves install keys from the key hosts of the site's environment (`installKeyHosts`): the first rule
 * whose sites match the payload's `baseUrl`, else the fallback URL. Each rule, and the fallback, is its
 * own `HttpInstallKeyResolver` with its own cache, so a key found for one environment is never used for
 * another: a kid that a staging host knows does not verify an install of a production site, even when
 * production has no key of that kid, and a kid that two environments both use gets each its own key.
 *
 * The site only chooses between the configured hosts; the token plays no part in the choice.
 */
export class RegionalInstallKeyResolver implements InstallKeyResolver {
  private readonly rules: readonly ResolvedInstallKeyHostRule[];
  private readonly byRule: ReadonlyMap<string, HttpInstallKeyResolver>;
  private readonly fallback: HttpInstallKeyResolver;
  private readonly fallbackChoice: InstallKeyHostChoice;

  constructor(options: RegionalInstallKeyResolverOptions) {
    this.rules = installKeyHostsOption('hosts', options.hosts);
    const shared = { timeoutMs: options.timeoutMs, maxBodyBytes: options.maxBodyBytes, cacheSize: options.cacheSize, fetch: options.fetch };
    this.byRule = new Map(this.rules.map((rule) => [rule.name, new HttpInstallKeyResolver({ ...shared, baseUrl: rule.urls[0]!, fallbackUrls: rule.urls.slice(1) })]));
    const fallbackUrl = parseInstallKeysBaseUrl(options.fallbackUrl).href.replace(/\/+$/, '');
    this.fallback = new HttpInstallKeyResolver({ ...shared, baseUrl: fallbackUrl });
    this.fallbackChoice = Object.freeze({ name: FALLBACK_INSTALL_KEY_HOST_NAME, urls: Object.freeze([fallbackUrl]) });
  }

  /** Which key hosts serve the installs of a site (by its payload `baseUrl`), for diagnostics. */
  hostFor(siteBaseUrl: string | undefined): InstallKeyHostChoice {
    const rule = installKeyHostRuleFor(this.rules, siteBaseUrl);
    return rule === undefined ? this.fallbackChoice : { name: rule.name, urls: rule.urls };
  }

  /** The key of `kid` from the hosts of the site's rule (or the fallback), cached for that rule only. */
  resolve(kid: string, site?: InstallKeySite): Promise<webcrypto.CryptoKey> {
    const rule = installKeyHostRuleFor(this.rules, site?.baseUrl);
    return (rule === undefined ? this.fallback : this.byRule.get(rule.name)!).resolve(kid);
  }

  /** Fetch and cache figures of each rule's resolver, by rule name, and of the fallback (`fallback`). */
  stats(): Readonly<Record<string, HttpInstallKeyResolverStats>> {
    const stats: Record<string, HttpInstallKeyResolverStats> = {};
    for (const [name, resolver] of this.byRule) stats[name] = resolver.stats();
    stats[FALLBACK_INSTALL_KEY_HOST_NAME] = this.fallback.stats();
    return stats;
  }
}
