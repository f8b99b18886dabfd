import { ConnectError } from '../errors/connect-error.js';
import { hostPatternsOption, isAllowedSiteUrl } from './allowed-host-patterns.js';
import { shown } from './option-checks.js';
import type { ResolvedInstallKeyHostRule } from './resolved-connect-options.js';
import { parseInstallKeysBaseUrl } from './url-options.js';

/** The most rules `installKeyHosts` takes: Atlassian has four environments; room for an app's own. */
export const MAX_INSTALL_KEY_HOST_RULES = 20;
/** The most base URLs of one rule: a primary and up to three fallbacks (each may cost a full timeout). */
export const MAX_INSTALL_KEY_URLS_PER_RULE = 4;
/** The name diagnostics give the hosts of sites that no rule matches (`installKeysUrl`); no rule may take it. */
export const FALLBACK_INSTALL_KEY_HOST_NAME = 'fallback';

const RULE_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

/**
 * Checks `installKeyHosts` (or any list of rules of its shape, `name` being the option shown in
 * messages) and returns the rules in order, frozen: site patterns lower-cased, URLs as
 * `parseInstallKeysBaseUrl()` reads them without a trailing slash, duplicates dropped. Throws
 * `config/invalid` naming the rule and the field.
 */
export function installKeyHostsOption(name: string, value: unknown): readonly ResolvedInstallKeyHostRule[] {
  if (!Array.isArray(value) || value.length > MAX_INSTALL_KEY_HOST_RULES) {
    throw ConnectError.create('config/invalid', `${name} must be a list of at most ${MAX_INSTALL_KEY_HOST_RULES} rules, not ${shown(value)}.`);
  }
  const seen = new Set<string>();
  const rules = value.map((rule: unknown, index): ResolvedInstallKeyHostRule => {
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
      throw ConnectError.create('config/invalid', `${name}[${index}] must be an object { name, sites, urls }, not ${shown(rule)}.`);
    }
    const input = rule as Record<string, unknown>;
    const ruleName = input.name;
    if (typeof ruleName !== 'string' || !RULE_NAME.test(ruleName)) {
      throw ConnectError.create('config/invalid', `${name}[${index}] name must be 1 to 40 characters of a-z, 0-9 and "-" (not starting with "-"), not ${shown(ruleName)}.`);
    }
    const where = `${name} rule "${ruleName}"`;
    if (ruleName === FALLBACK_INSTALL_KEY_HOST_NAME) {
      throw ConnectError.create('config/invalid', `${where}: the name "${FALLBACK_INSTALL_KEY_HOST_NAME}" stands for installKeysUrl; choose another.`);
    }
    if (seen.has(ruleName)) throw ConnectError.create('config/invalid', `${where} is defined twice; rule names must be unique.`);
    seen.add(ruleName);
    return Object.freeze({ name: ruleName, sites: hostPatternsOption(`${where} sites`, input.sites), urls: urlsOf(where, input.urls) });
  });
  return Object.freeze(rules);
}

function urlsOf(where: string, value: unknown): readonly string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_INSTALL_KEY_URLS_PER_RULE) {
    throw ConnectError.create('config/invalid', `${where} urls must be a list of 1 to ${MAX_INSTALL_KEY_URLS_PER_RULE} install keys base URLs, not ${shown(value)}.`);
  }
  const urls = value.map((url: unknown, index) => {
    if (typeof url !== 'string' || url === '') {
      throw ConnectError.create('config/invalid', `${where} urls[${index}] must be a non-empty string, not ${shown(url)}.`);
    }
    try {
      return parseInstallKeysBaseUrl(url).href.replace(/\/+$/, '');
    } catch (error) {
      if (!(error instanceof ConnectError)) throw error;
      throw ConnectError.create('config/invalid', `${where} urls[${index}] is refused: ${error.message}`, error.detail, error);
    }
  });
  return Object.freeze([...new Set(urls)]);
}

/**
 * The first rule whose sites match the payload's `baseUrl` (as `allowedHostPatterns` match), or
 * `undefined` for no rule: no `baseUrl`, one that is not a URL, or a site of no rule.
 */
export function installKeyHostRuleFor(rules: readonly ResolvedInstallKeyHostRule[], siteBaseUrl: string | undefined): ResolvedInstallKeyHostRule | undefined {
  if (typeof siteBaseUrl !== 'string' || rules.length === 0 || !URL.canParse(siteBaseUrl)) return undefined;
  const url = new URL(siteBaseUrl);
  return rules.find((rule) => isAllowedSiteUrl(rule.sites, url));
}
