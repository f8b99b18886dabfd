import { ConnectError } from '../errors/connect-error.js';
import { isLoopbackHost } from '../util/loopback.js';
import { shown } from './option-checks.js';

/**
 * The host names a lifecycle payload may name as its site (`baseUrl`, `displayUrl`,
 * `displayUrlServicedeskHelpCenter`). A pattern is either a host name matched exactly (`jira.example.com`,
 * `127.0.0.1`, `[::1]`) or `*.` followed by a domain of at least two labels: `*.atlassian.net` matches
 * `acme.atlassian.net` and `a.b.atlassian.net`, never `atlassian.net` itself. Host names are compared in
 * lower case (the URL parser lower-cases them, and turns international names into their `xn--` form).
 */

/** The loopback host names the test kit and the simulator serve sites on; allowed only when listed. */
export const LOOPBACK_HOST_PATTERNS = Object.freeze(['localhost', '127.0.0.1', '[::1]'] as const);

const MAX_PATTERNS = 100;
const MAX_HOST_LENGTH = 253;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const BRACKETED_IPV6 = /^\[[0-9a-f:.]+\]$/;

/**
 * Checks an app's `allowedHostPatterns` and returns them lower-cased and frozen; throws `config/invalid`
 * naming the app and the bad entry.
 */
export function allowedHostPatternsOption(appKey: string, value: unknown): readonly string[] {
  return hostPatternsOption(`App "${appKey}" allowedHostPatterns`, value);
}

/**
 * Checks a list of host patterns of the syntax above (1 to 100 of them) and returns them lower-cased,
 * without duplicates, frozen; throws `config/invalid` naming the option (`name`, as shown in messages)
 * and the bad entry. Every option that matches payload sites uses it, so they all read patterns alike.
 */
export function hostPatternsOption(name: string, value: unknown): readonly string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_PATTERNS) {
    throw ConnectError.create('config/invalid', `${name} must be a list of 1 to ${MAX_PATTERNS} host patterns, not ${shown(value)}.`);
  }
  return Object.freeze([...new Set(value.map((pattern: unknown) => checkPattern(name, pattern)))]);
}

function checkPattern(name: string, pattern: unknown): string {
  const refuse = (why: string) =>
    ConnectError.create('config/invalid', `${name} has ${shown(pattern)}, which ${why}; use a host name such as "jira.example.com" or "*.atlassian.net".`);
  if (typeof pattern !== 'string' || pattern === '' || pattern.length > MAX_HOST_LENGTH) throw refuse('is not a host name of 1 to 253 characters');
  const lower = pattern.toLowerCase();
  if (BRACKETED_IPV6.test(lower) || IPV4.test(lower)) return lower;
  const wildcard = lower.startsWith('*.');
  const labels = (wildcard ? lower.slice(2) : lower).split('.');
  if (!labels.every((label) => LABEL.test(label))) throw refuse('is not a host name (no scheme, port, path or "*" other than a leading "*.")');
  if (wildcard && labels.length < 2) throw refuse('would match every name under a top-level domain');
  if (wildcard && /^\d+$/.test(labels[labels.length - 1]!)) throw refuse('would match IP addresses');
  return lower;
}

/**
 * Whether a payload URL names an allowed site: https on a host a pattern matches, or plain http on a
 * loopback host that a pattern names exactly. A URL with credentials is never allowed.
 */
export function isAllowedSiteUrl(patterns: readonly string[], url: URL): boolean {
  if (url.username !== '' || url.password !== '') return false;
  const host = url.hostname.toLowerCase();
  if (isLoopbackHost(host)) return (url.protocol === 'https:' || url.protocol === 'http:') && patterns.includes(host);
  if (url.protocol !== 'https:') return false;
  const literal = IPV4.test(host) || host.startsWith('[');
  return patterns.some((pattern) => (pattern.startsWith('*.') ? !literal && host.endsWith(pattern.slice(1)) : host === pattern));
}
