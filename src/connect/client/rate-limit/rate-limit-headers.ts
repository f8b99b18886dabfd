import type { RateLimitPolicyState } from './rate-limit-snapshot.js';

/**
 * The points-based rate-limit headers Jira and Confluence Cloud send since 2026, as observed:
 *
 *   Beta-RateLimit-Policy: "tenant-app-quota";q=100100;w=3600     (q points per w seconds)
 *   Beta-RateLimit: "tenant-app-quota";r=17842;t=2107             (r left, reset in t seconds)
 *   X-Beta-RateLimit-Reason: jira-quota-tenant-based
 *   X-Beta-RateLimit-NearLimit: true                               (under 20 % left)
 *   X-Beta-RateLimit-Reset: 2026-03-26T16:00Z
 *
 * The first two follow the IETF RateLimit-fields draft (structured-field lists). Everything here is
 * read defensively: a header longer than {@link MAX_HEADER_LENGTH} is ignored, unknown parameters and
 * items are skipped, and nothing throws.
 */
export const RATE_LIMIT_HEADERS = {
  policy: 'beta-ratelimit-policy',
  state: 'beta-ratelimit',
  reason: 'x-beta-ratelimit-reason',
  nearLimit: 'x-beta-ratelimit-nearlimit',
  reset: 'x-beta-ratelimit-reset',
} as const;

/** Longer headers are not read at all (a real one is well under 200 characters). */
export const MAX_HEADER_LENGTH = 1024;
/** Budgets read from one header; further items are ignored. */
export const MAX_POLICIES = 8;
/** Numbers above this (points, seconds) are not believed. */
const MAX_NUMBER = 1e12;
/** A reset further away than a day is not believed. */
const MAX_RESET_MS = 86_400_000;

/** What one response said about its tenant's budget. */
export interface RateLimitObservation {
  /** Most constrained first. */
  readonly policies: readonly RateLimitPolicyState[];
  readonly reason: string | undefined;
  /** `undefined` when the header was absent. */
  readonly nearLimit: boolean | undefined;
  /** From `X-Beta-RateLimit-Reset`, when it is a time in the next day. */
  readonly resetAtMs: number | undefined;
}

/** One item of a structured-field list: its bare value and its parameters. */
interface ListItem {
  name: string;
  params: Map<string, string>;
}

/**
 * The rate-limit facts of a response, or `undefined` when it carries none of the headers (the common
 * case, which costs five `Headers.get` calls and allocates nothing).
 */
export function readRateLimitHeaders(headers: Headers, now = Date.now()): RateLimitObservation | undefined {
  const state = headers.get(RATE_LIMIT_HEADERS.state);
  const policy = headers.get(RATE_LIMIT_HEADERS.policy);
  const nearLimit = headers.get(RATE_LIMIT_HEADERS.nearLimit);
  const reason = headers.get(RATE_LIMIT_HEADERS.reason);
  const reset = headers.get(RATE_LIMIT_HEADERS.reset);
  if (state === null && policy === null && nearLimit === null && reason === null && reset === null) return undefined;
  return parseRateLimitHeaders({ state, policy, nearLimit, reason, reset }, now);
}

/** The parsing behind {@link readRateLimitHeaders}, on raw header values (`null` or `undefined`: absent). */
export function parseRateLimitHeaders(
  raw: {
    state?: string | null | undefined;
    policy?: string | null | undefined;
    nearLimit?: string | null | undefined;
    reason?: string | null | undefined;
    reset?: string | null | undefined;
  },
  now = Date.now(),
): RateLimitObservation {
  const policies = new Map<string, { limit: number | undefined; windowSeconds: number | undefined }>();
  for (const item of parseList(raw.policy)) {
    if (!policies.has(item.name)) policies.set(item.name, { limit: numberParam(item.params, 'q'), windowSeconds: numberParam(item.params, 'w') });
  }
  const states: RateLimitPolicyState[] = [];
  const named = new Set<string>();
  for (const item of parseList(raw.state)) {
    if (named.has(item.name)) continue;
    named.add(item.name);
    const known = policies.get(item.name);
    states.push(
      Object.freeze({
        name: item.name,
        limit: known?.limit,
        windowSeconds: known?.windowSeconds,
        remaining: numberParam(item.params, 'r'),
        resetSeconds: numberParam(item.params, 't'),
      }),
    );
  }
  // A policy announced without a state still tells the budget's size.
  for (const [name, known] of policies) {
    if (named.has(name) || states.length >= MAX_POLICIES) continue;
    states.push(Object.freeze({ name, limit: known.limit, windowSeconds: known.windowSeconds, remaining: undefined, resetSeconds: undefined }));
  }
  states.sort((a, b) => constraint(a) - constraint(b));
  return {
    policies: Object.freeze(states),
    reason: token(raw.reason),
    nearLimit: booleanValue(raw.nearLimit),
    resetAtMs: resetTime(raw.reset, now),
  };
}

/** Lower is tighter: the share left, or a large number when unknown. */
function constraint(state: RateLimitPolicyState): number {
  if (state.remaining === undefined) return Number.MAX_VALUE;
  if (state.limit !== undefined && state.limit > 0) return state.remaining / state.limit;
  // Without a size, only an empty budget is known to be tight.
  return state.remaining === 0 ? 0 : Number.MAX_VALUE / 2;
}

/** Items of a structured-field list (`"a";q=1;w=2, b;r=3`), at most {@link MAX_POLICIES}; malformed items are skipped. */
function parseList(value: string | null | undefined): ListItem[] {
  if (typeof value !== 'string' || value === '' || value.length > MAX_HEADER_LENGTH) return [];
  const items: ListItem[] = [];
  for (const part of splitOutsideQuotes(value, ',')) {
    if (items.length >= MAX_POLICIES) break;
    const [head, ...params] = splitOutsideQuotes(part, ';');
    const name = itemName(head!.trim());
    if (name === undefined) continue;
    const map = new Map<string, string>();
    for (const param of params) {
      const at = param.indexOf('=');
      const key = (at === -1 ? param : param.slice(0, at)).trim().toLowerCase();
      if (!/^[a-z*][a-z0-9_.*-]{0,31}$/.test(key) || map.has(key)) continue;
      map.set(key, at === -1 ? '?1' : param.slice(at + 1).trim());
    }
    items.push({ name, params: map });
  }
  return items;
}

function splitOutsideQuotes(value: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const char = value[i];
    if (char === '\\' && quoted) i++;
    else if (char === '"') quoted = !quoted;
    else if (char === separator && !quoted) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts;
}

/** A quoted string or a token, at most 64 printable characters; `undefined` when it is neither. */
function itemName(raw: string): string | undefined {
  if (!raw.startsWith('"')) return /^[A-Za-z*][\w.:%*/!#$&'+^`|~-]{0,63}$/.test(raw) ? raw : undefined;
  if (raw.length < 2 || !raw.endsWith('"')) return undefined;
  const name = raw.slice(1, -1).replace(/\\(.)/g, '$1');
  return /^[\x20-\x7e]{1,64}$/.test(name) && !/["\\]/.test(name) ? name : undefined;
}

/** A non-negative integer or decimal parameter; anything else is `undefined`. */
function numberParam(params: Map<string, string>, key: string): number | undefined {
  const raw = params.get(key);
  if (raw === undefined || !/^\d{1,13}(\.\d{1,3})?$/.test(raw)) return undefined;
  const value = Number(raw);
  return value <= MAX_NUMBER ? value : undefined;
}

function token(value: string | null | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return /^[\x21-\x7e]{1,100}$/.test(trimmed) ? trimmed : undefined;
}

function booleanValue(value: string | null | undefined): boolean | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim().toLowerCase();
  if (trimmed === 'true' || trimmed === '?1' || trimmed === '1') return true;
  if (trimmed === 'false' || trimmed === '?0' || trimmed === '0') return false;
  return undefined;
}

function resetTime(value: string | null | undefined, now: number): number | undefined {
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const trimmed = value.trim();
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:?\d\d)$/.test(trimmed)) return undefined;
  const time = Date.parse(trimmed);
  if (Number.isNaN(time) || time <= now || time - now > MAX_RESET_MS) return undefined;
  return time;
}
