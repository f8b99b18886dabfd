import { createHash } from 'node:crypto';
import { ConnectError } from '../../errors/connect-error.js';

/**
 * The Atlassian Connect query string hash (qsh): `METHOD&URI&QUERY`, hashed with SHA-256.
 *
 * Where the atlassian-jwt Node package and Atlassian's own (Java) host disagree, we follow the host,
 * because the host computes the qsh we compare against: parameters sort by their *encoded* name,
 * every parameter counts (no 1000-parameter cut-off), `__proto__` is an ordinary name, and the context
 * path is stripped only as whole segments.
 *
 * The path is used as received (escapes are not decoded or re-cased), except where a URL parser
 * would have changed it before the host signed it: a backslash is read as `/` (as WHATWG URL parsers
 * and `url.parse` do), and characters that cannot stand raw in a path (C0 controls, space, DEL, `"`,
 * `<`, `>`, `^`, `` ` ``, `{`, `|`, `}`, anything beyond ASCII) are percent-encoded as UTF-8, as a Java
 * host's URI encoding does: space → `%20`, tab → `%09` (a WHATWG parser would drop a tab). `[` and `]`,
 * which `url.parse` and WHATWG parsers leave alone, stay as received. Node's HTTP server refuses such
 * request lines, so this matters to direct callers (tools, proxies that hand over decoded paths, tests).
 *
 * Query names and values are decoded and re-encoded. A sequence of percent-escapes that is not valid
 * UTF-8 (a lone `%E9`, a truncated `%E0%A4`, an overlong `%C0%AF`, an encoded surrogate `%ED%A0%80`)
 * decodes to U+FFFD per maximal invalid subsequence, as Java's URL decoding does, and so re-encodes
 * as `%EF%BF%BD`. A component with a `%` that is not followed by two hex digits (`%zz`, a trailing `%`)
 * cannot be decoded at all: it is used exactly as received, `+` included, and encoded like any other
 * text, so `%` becomes `%25`. Nothing here throws on malformed input. A lone surrogate in the input
 * string is encoded as U+FFFD, which is what WHATWG URL serialisers (fetch, `URL`) put on the wire.
 */

/**
 * Longer URLs are rejected rather than canonicalised. Node refuses request heads over 16 KiB by
 * default, so this leaves room for raised limits while bounding the work (tens of milliseconds at
 * worst) that one crafted URL can cause.
 */
export const MAX_CANONICAL_URL_LENGTH = 64 * 1024;

const SLASH = 0x2f;
const PERCENT = 0x25;
const PLUS = 0x2b;
const HEX = '0123456789ABCDEF';
const ESCAPED_BYTE: readonly string[] = Array.from({ length: 256 }, (_, b) => '%' + HEX[b >> 4] + HEX[b & 15]);
/** 1 for the RFC 3986 unreserved characters, the only ones left literal. */
const UNRESERVED = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') UNRESERVED[c.charCodeAt(0)] = 1;

/**
 * The canonical request for `url`: the request target exactly as received (raw path and query) or an
 * absolute URL. The path of `baseUrl`, if it has one, is the context path removed from the front.
 * Throws only ConnectError: `jwt/malformed` for a non-string or over-long URL or method,
 * `config/invalid` for a base URL that is not a string.
 */
export function canonicalRequest(method: string, url: string, baseUrl?: string): string {
  if (typeof method !== 'string' || typeof url !== 'string') {
    throw ConnectError.create('jwt/malformed', 'The request method and URL must be strings.');
  }
  if (baseUrl != null && typeof baseUrl !== 'string') {
    throw ConnectError.create('config/invalid', 'The app base URL must be a string.');
  }
  if (url.length > MAX_CANONICAL_URL_LENGTH) {
    throw ConnectError.create('jwt/malformed', 'The request URL is too long.', { length: url.length });
  }
  const { path, query } = splitUrl(url);
  const uri = canonicalUri(path, baseUrl ? contextPath(baseUrl) : '');
  return method.toUpperCase() + '&' + uri + '&' + canonicalQuery(query);
}

/** The qsh claim value: hex SHA-256 of the canonical request's UTF-8 bytes. */
export function queryStringHash(method: string, url: string, baseUrl?: string): string {
  return createHash('sha256')
    .update(canonicalRequest(method, url, baseUrl), 'utf8')
    .digest('hex');
}

/** Splits a raw path-and-query or absolute URL; the fragment, never sent to a server, is dropped. */
function splitUrl(url: string): { path: string; query: string } {
  let end = url.indexOf('#');
  if (end === -1) end = url.length;
  let q = url.indexOf('?');
  if (q === -1 || q > end) q = end;
  const start = url.charCodeAt(0) === SLASH ? 0 : pathStart(url, q);
  return { path: url.slice(start, q), query: q < end ? url.slice(q + 1, end) : '' };
}

/** Where the path begins: after `scheme://authority` in an absolute URL, else at 0. */
function pathStart(url: string, limit: number): number {
  const sep = url.indexOf('://');
  if (sep <= 0 || sep >= limit || !isScheme(url, sep)) return 0;
  for (let i = sep + 3; i < limit; i++) if (url.charCodeAt(i) === SLASH) return i;
  return limit;
}

function isScheme(url: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = url.charCodeAt(i);
    const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    const other = (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e;
    if (!letter && (i === 0 || !other)) return false;
  }
  return true;
}

// An app passes the same base URL on every request, so the last one's context path is kept.
let lastBaseUrl = '';
let lastContextPath = '';

/** The base URL's path without trailing slashes; '' when there is none to strip. */
function contextPath(baseUrl: string): string {
  if (baseUrl === lastBaseUrl) return lastContextPath;
  let path = splitUrl(baseUrl).path;
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === SLASH) end--;
  path = path.slice(0, end);
  lastContextPath = path.charCodeAt(0) === SLASH ? path : '';
  lastBaseUrl = baseUrl;
  return lastContextPath;
}

function canonicalUri(rawPath: string, context: string): string {
  let path = asParsedPath(rawPath);
  const wholeSegment = path.length === context.length || path.charCodeAt(context.length) === SLASH;
  if (context && wholeSegment && path.startsWith(context)) path = path.slice(context.length);
  // Only one trailing slash goes, as in Atlassian's implementations: `/a//` stays distinct from `/a`.
  if (path.charCodeAt(path.length - 1) === SLASH) path = path.slice(0, -1);
  if (path === '') return '/';
  // An unescaped `&` would let `/x&a=b?c=d` and `/x?a=b&c=d` share a canonical form.
  if (path.includes('&')) path = path.replaceAll('&', '%26');
  return path.charCodeAt(0) === SLASH ? path : '/' + path;
}

/** 1 for the characters a path cannot hold raw (see the top of this file), 2 for a backslash. */
const PATH_FIX = new Uint8Array(128);
for (let c = 0; c <= 0x20; c++) PATH_FIX[c] = 1;
for (const c of '\x7f"<>^`{|}') PATH_FIX[c.charCodeAt(0)] = 1;
PATH_FIX[0x5c] = 2;

/** The path as the host's URL parser left it: `\\` as `/`, illegal characters percent-encoded. */
function asParsedPath(path: string): string {
  const n = path.length;
  let i = 0;
  for (; i < n; i++) {
    const c = path.charCodeAt(i);
    if (c >= 0x80 || PATH_FIX[c] !== 0) break;
  }
  if (i === n) return path;
  let out = path.slice(0, i);
  while (i < n) {
    const c = path.charCodeAt(i);
    if (c < 0x80) {
      const fix = PATH_FIX[c];
      out += fix === 0 ? path[i] : fix === 2 ? '/' : ESCAPED_BYTE[c];
      i++;
    } else {
      let j = i + 1;
      while (j < n && path.charCodeAt(j) >= 0x80) j++;
      out += encodeRfc3986(path.slice(i, j));
      i = j;
    }
  }
  return out;
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  // Keyed by canonical name: that is the sort key, and names whose encodings coincide must merge so
  // that the result does not depend on parameter order. Values stay raw until they are written.
  const params = new Map<string, string[]>();
  for (let start = 0; start <= query.length;) {
    let end = query.indexOf('&', start);
    if (end === -1) end = query.length;
    if (end > start) {
      const pair = query.slice(start, end);
      const eq = pair.indexOf('=');
      // Only the decoded name "jwt" has the canonical form "jwt": any other reading contains a %.
      const name = canonicalComponent(eq === -1 ? pair : pair.slice(0, eq));
      if (name !== 'jwt') {
        const value = eq === -1 ? '' : pair.slice(eq + 1);
        const values = params.get(name);
        if (values) values.push(value);
        else params.set(name, [value]);
      }
    }
    start = end + 1;
  }
  // Default sort compares UTF-16 code units, as Java's String.compareTo does on the host.
  const names = params.size > 1 ? [...params.keys()].sort() : [...params.keys()];
  let out = '';
  for (const name of names) out += (out ? '&' : '') + name + '=' + canonicalValues(params.get(name)!);
  return out;
}

/** Repeated values sort on their decoded text (Atlassian's "Multi-value II" vector depends on it). */
function canonicalValues(raws: string[]): string {
  if (raws.length === 1) return canonicalComponent(raws[0]!);
  const values = raws.map((raw) => ({ decoded: decodeComponent(raw), raw }));
  values.sort((a, b) => (a.decoded < b.decoded ? -1 : a.decoded > b.decoded ? 1 : 0));
  return values.map((v) => canonicalComponent(v.raw)).join(',');
}

/**
 * Form-decodes (`+` is a space); invalid UTF-8 becomes U+FFFD, as Java's decoder makes it. A `%`
 * without two hex digits after it cannot be decoded: then `raw` is returned unchanged.
 */
function decodeComponent(raw: string): string {
  if (!raw.includes('%')) return raw.includes('+') ? raw.replaceAll('+', ' ') : raw;
  if (BAD_ESCAPE.test(raw)) return raw;
  const text = raw.replaceAll('+', ' ');
  try {
    return decodeURIComponent(text);
  } catch {
    return decodeLeniently(text);
  }
}

/** A `%` that does not start an escape. */
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
const LENIENT_UTF8 = new TextDecoder('utf-8');

/** Percent-decodes `text` (every `%` starts a valid escape) to UTF-8 bytes, then reads them with U+FFFD for what is not UTF-8. */
function decodeLeniently(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length;) {
    if (text.charCodeAt(i) === PERCENT) {
      bytes.push(escapedByte(text, i));
      i += 3;
      continue;
    }
    let j = text.indexOf('%', i);
    if (j === -1) j = text.length;
    for (const b of Buffer.from(text.slice(i, j), 'utf8')) bytes.push(b);
    i = j;
  }
  return LENIENT_UTF8.decode(Uint8Array.from(bytes));
}

/**
 * `encodeRfc3986(decodeComponent(raw))` in one pass and without decoding: valid percent-encoded
 * UTF-8 re-encodes to the very same bytes, so escapes are only validated and upper-cased.
 */
function canonicalComponent(raw: string): string {
  const n = raw.length;
  let i = 0;
  while (i < n && UNRESERVED[raw.charCodeAt(i)] === 1) i++;
  if (i === n) return raw;
  let out = raw.slice(0, i);
  while (i < n) {
    const c = raw.charCodeAt(i);
    if (c === PERCENT) {
      const length = escapedCharLength(raw, i);
      // Not well-formed UTF-8: decode it the slow way (U+FFFD), or keep it whole when it cannot be decoded.
      if (length === 0) return encodeRfc3986(decodeComponent(raw));
      if (length === 3) {
        const b = escapedByte(raw, i);
        out += UNRESERVED[b] === 1 ? String.fromCharCode(b) : ESCAPED_BYTE[b];
      } else {
        out += raw.slice(i, i + length).toUpperCase();
      }
      i += length;
    } else if (c === PLUS) {
      out += '%20';
      i++;
    } else if (c < 0x80) {
      out += UNRESERVED[c] === 1 ? raw[i] : ESCAPED_BYTE[c];
      i++;
    } else {
      let j = i + 1;
      while (j < n && raw.charCodeAt(j) >= 0x80) j++;
      out += encodeRfc3986(raw.slice(i, j));
      i = j;
    }
  }
  return out;
}

/**
 * How many characters of `text` from `i` spell one percent-encoded character: 3 for ASCII, up to 12
 * for four UTF-8 bytes; 0 when they are not well-formed UTF-8 (Unicode table 3-7, the same rule
 * decodeURIComponent applies: no overlong forms, no surrogates, nothing above U+10FFFF).
 */
function escapedCharLength(text: string, i: number): number {
  const lead = escapedByte(text, i);
  if (lead < 0x80) return lead < 0 ? 0 : 3;
  let trailing: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) trailing = 1;
  else if (lead >= 0xe0 && lead <= 0xef) {
    trailing = 2;
    if (lead === 0xe0) low = 0xa0;
    else if (lead === 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    trailing = 3;
    if (lead === 0xf0) low = 0x90;
    else if (lead === 0xf4) high = 0x8f;
  } else return 0;
  for (let k = 1; k <= trailing; k++) {
    const b = escapedByte(text, i + 3 * k);
    if (b < low || b > high) return 0;
    low = 0x80;
    high = 0xbf;
  }
  return 3 * (trailing + 1);
}

/** The byte a `%XX` at `i` stands for, or -1. */
function escapedByte(text: string, i: number): number {
  if (text.charCodeAt(i) !== PERCENT) return -1;
  const hi = hexDigit(text.charCodeAt(i + 1));
  const lo = hexDigit(text.charCodeAt(i + 2));
  return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

/** RFC 3986 percent-encoding of UTF-8, upper-case hex, all but the unreserved characters escaped. */
function encodeRfc3986(text: string): string {
  const n = text.length;
  let i = 0;
  while (i < n && UNRESERVED[text.charCodeAt(i)] === 1) i++;
  if (i === n) return text;
  let out = text.slice(0, i);
  for (; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out += UNRESERVED[c] === 1 ? text[i] : ESCAPED_BYTE[c];
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = text.charCodeAt(i + 1); // NaN past the end
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else {
        c = 0xfffd;
      }
    }
    if (c < 0x800) {
      out += ESCAPED_BYTE[0xc0 | (c >> 6)]! + ESCAPED_BYTE[0x80 | (c & 63)];
    } else if (c < 0x10000) {
      out += ESCAPED_BYTE[0xe0 | (c >> 12)]! + ESCAPED_BYTE[0x80 | ((c >> 6) & 63)] + ESCAPED_BYTE[0x80 | (c & 63)];
    } else {
      out += ESCAPED_BYTE[0xf0 | (c >> 18)]! + ESCAPED_BYTE[0x80 | ((c >> 12) & 63)] + ESCAPED_BYTE[0x80 | ((c >> 6) & 63)] + ESCAPED_BYTE[0x80 | (c & 63)];
    }
  }
  return out;
}
