import { createHash } from 'node:crypto';
import { canonicalRequest } from '../auth/jwt/canonical-request.js';
import { CONTEXT_QSH } from '../auth/jwt/connect-jwt-claims.js';

/**
 * Explains a query string hash (qsh) mismatch: given the request as the app saw it and the qsh the
 * token carries, it computes the canonical request (with the framework's own canonicaliser) and, when
 * the hashes differ, replays the usual ways a URL gets distorted between the product and the app (a
 * proxy re-encoding the path, a wrong baseUrl path prefix, a trailing slash, a decoded query, another
 * method, …) until one of them hashes to the token's qsh. Pure: no I/O, no clock, never throws for
 * odd input except what `canonicalRequest` itself throws (over-long URLs).
 *
 * Only one distortion is tried at a time: two at once (say a wrong prefix *and* a re-encoded path)
 * are reported as "no explanation found", together with the canonical request, which is what an
 * operator then compares by hand.
 */

/** A distortion that explains the token's qsh. */
export interface QshVariant {
  /** What differs between the request the token was signed for and the one the app saw. */
  description: string;
  /** What to change so that they agree. */
  hint: string;
  /** The canonical request whose hash is the token's qsh. */
  canonical: string;
}

export interface QshDiagnosis {
  /** The canonical request of the request as the app saw it. */
  canonical: string;
  /** Its hash: what the token's qsh must be. */
  qsh: string;
  /** The token's qsh equals `qsh`. */
  matches: boolean;
  /** The token's qsh is the literal `context-qsh` (no variant search is done then). */
  contextToken: boolean;
  /** On a mismatch, the first distortion that reproduces the token's qsh, if any does. */
  variant?: QshVariant;
}

/** The hint for every path re-encoding: the usual culprit is Apache's URL canonicalisation. */
export const PROXY_REENCODES_PATH_HINT = 'the proxy re-encodes the path: Apache needs `nocanon` on ProxyPass (or `AllowEncodedSlashes NoDecode`)';
const ENCODED_SLASH_HINT = 'the proxy decodes `%2F` in the path: Apache needs `AllowEncodedSlashes NoDecode` together with `nocanon` on ProxyPass';
const QUERY_HINT = 'the query string was decoded or re-encoded on the way: the proxy must pass it through unchanged (Apache: `nocanon` on ProxyPass)';
const TRAILING_SLASH_HINT = 'a trailing slash was added or removed between the product and the app: look for proxy rewrites or redirects that change the end of the path';
const PREFIX_HINT = 'baseUrl path prefix mismatch: ';
const HTTP_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];
/** The path of a Confluence Cloud site's baseUrl (`https://<site>.atlassian.net/wiki`). */
const SITE_CONTEXT = '/wiki';
/** Bounds the number of single-position variants (`%2F` at one slash, one parameter dropped, …). */
const MAX_POSITIONS = 16;

/**
 * Diagnoses the token qsh `expectedQsh` against the request `method url` received by an app whose
 * baseUrl is `baseUrl` (its path is the context path stripped before hashing; `undefined` for none).
 * `url` is the raw request target (path and query) or an absolute URL, exactly as the app saw it.
 */
export function diagnoseQsh(method: string, url: string, baseUrl: string | undefined, expectedQsh: string): QshDiagnosis {
  const canonical = canonicalRequest(method, url, baseUrl);
  const qsh = sha256(canonical);
  const contextToken = expectedQsh === CONTEXT_QSH;
  const matches = !contextToken && qsh === expectedQsh;
  if (matches || contextToken) return { canonical, qsh, matches, contextToken };
  const seen = new Set<string>([canonical]);
  for (const candidate of candidates(parseRequest(method, url, baseUrl), canonical)) {
    const variantCanonical = 'canonical' in candidate ? candidate.canonical : tryCanonical(candidate.method, candidate.url, candidate.baseUrl);
    if (variantCanonical === undefined || seen.has(variantCanonical)) continue;
    seen.add(variantCanonical);
    if (sha256(variantCanonical) === expectedQsh) {
      return { canonical, qsh, matches, contextToken, variant: { description: candidate.description, hint: candidate.hint, canonical: variantCanonical } };
    }
  }
  return { canonical, qsh, matches, contextToken };
}

type Candidate = { description: string; hint: string } & ({ method: string; url: string; baseUrl: string | undefined } | { canonical: string });

interface ParsedRequest {
  method: string;
  url: string;
  baseUrl: string | undefined;
  /** `scheme://authority` of the URL, or '' for a path-only URL. */
  origin: string;
  path: string;
  /** The raw query without `?`; undefined when the URL has none. */
  query: string | undefined;
  /** `scheme://authority` of the baseUrl, or ''. */
  baseOrigin: string;
  /** The baseUrl's path without trailing slashes, '' when it has none. */
  context: string;
  /** The path starts with the context path as whole segments (so the canonicaliser strips it). */
  stripped: boolean;
  /** The path after the context path (the whole path when nothing is stripped). */
  rest: string;
}

function parseRequest(method: string, url: string, baseUrl: string | undefined): ParsedRequest {
  const { origin, path, query } = splitUrl(url);
  const base = baseUrl === undefined ? undefined : splitUrl(baseUrl);
  const context = base === undefined ? '' : trimTrailingSlashes(base.path);
  const stripped = context !== '' && startsWithSegments(path, context);
  return {
    method,
    url,
    baseUrl,
    origin,
    path,
    query,
    baseOrigin: base?.origin ?? '',
    context: context.startsWith('/') ? context : '',
    stripped,
    rest: stripped ? path.slice(context.length) : path,
  };
}

/** The distortions, most common first. */
function* candidates(r: ParsedRequest, canonical: string): Generator<Candidate> {
  const [canonicalMethod, canonicalUri, canonicalQueryString] = splitCanonical(canonical);
  const withRest = (rest: string, description: string, hint: string): Candidate => ({
    method: r.method,
    url: buildUrl(r.origin, (r.stripped ? r.context : '') + rest, r.query),
    baseUrl: r.baseUrl,
    description,
    hint,
  });
  const withQuery = (query: string | undefined, description: string, hint: string): Candidate => ({
    method: r.method,
    url: buildUrl(r.origin, r.path, query),
    baseUrl: r.baseUrl,
    description,
    hint,
  });
  const withContext = (context: string, description: string, hint: string): Candidate => ({
    method: r.method,
    url: r.url,
    baseUrl: context === '' ? undefined : context,
    description,
    hint,
  });
  const fromCanonical = (method: string, uri: string, query: string, description: string, hint: string): Candidate => ({
    canonical: `${method}&${uri}&${query}`,
    description,
    hint,
  });
  const appOrigin = r.baseOrigin || r.origin || '<app origin>';

  // 1. The path was decoded or re-encoded on the way (Apache without `nocanon`, and friends).
  const rest = r.rest;
  if (rest.includes('+')) yield withRest(rest.replaceAll('+', '%20'), 'the product signed `%20` in the path where the app saw `+`', PROXY_REENCODES_PATH_HINT);
  if (/%20/i.test(rest)) yield withRest(rest.replace(/%20/gi, '+'), 'the product signed `+` in the path where the app saw `%20`', PROXY_REENCODES_PATH_HINT);
  if (/%25[0-9A-Fa-f]{2}/.test(rest)) {
    yield withRest(rest.replace(/%25([0-9A-Fa-f]{2})/g, '%$1'), 'the path was percent-encoded a second time on the way (`%2520` for `%20`)', PROXY_REENCODES_PATH_HINT);
  }
  const slashes = slashPositions(rest);
  if (slashes.length > 0) {
    const allEncoded = slashes.reduce((text, at, n) => text.slice(0, at + 2 * n) + '%2F' + text.slice(at + 2 * n + 1), rest);
    yield withRest(allEncoded, 'the product signed `%2F` in the path where the app saw `/` (the proxy decoded it)', ENCODED_SLASH_HINT);
    for (const at of slashes.slice(0, MAX_POSITIONS)) {
      yield withRest(rest.slice(0, at) + '%2F' + rest.slice(at + 1), 'the product signed `%2F` in the path where the app saw `/` (the proxy decoded it)', ENCODED_SLASH_HINT);
    }
  }
  if (/%2F/i.test(rest)) yield withRest(rest.replace(/%2F/gi, '/'), 'the product signed `/` in the path where the app saw `%2F`', PROXY_REENCODES_PATH_HINT);
  const encoded = encodePath(rest);
  if (encoded !== rest) yield withRest(encoded, 'the product signed percent-escapes (e.g. `%20`) that arrived decoded in the path', PROXY_REENCODES_PATH_HINT);
  const unreserved = decodeUnreservedEscapes(rest);
  if (unreserved !== rest)
    yield withRest(unreserved, 'the app saw percent-escapes of plain characters (e.g. `%7E` for `~`) that the product did not sign', PROXY_REENCODES_PATH_HINT);
  if (/%[0-9A-Fa-f]{2}/.test(rest)) {
    yield withRest(
      rest.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => `%${hex.toUpperCase()}`),
      "the hex digits of the path's percent-escapes changed case (the product signed upper case)",
      PROXY_REENCODES_PATH_HINT,
    );
    yield withRest(
      rest.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => `%${hex.toLowerCase()}`),
      "the hex digits of the path's percent-escapes changed case (the product signed lower case)",
      PROXY_REENCODES_PATH_HINT,
    );
    yield withRest(
      rest.replace(/%([0-9A-Fa-f]{2})/g, '%25$1'),
      'the path was percent-decoded once on the way (the product signed `%2520` where the app saw `%20`)',
      PROXY_REENCODES_PATH_HINT,
    );
  }
  // After the case variants: a path read decoded re-encodes in upper case, which would hide a case change.
  const decoded = decodePath(rest);
  if (decoded !== undefined && decoded !== rest)
    yield withRest(decoded, 'the product signed the path without percent-escapes; they were added on the way', PROXY_REENCODES_PATH_HINT);

  // 2. The Confluence site's `/wiki` on the wrong side of the baseUrl.
  if (startsWithSegments(rest, SITE_CONTEXT)) {
    yield withContext(
      (r.stripped ? r.context : '') + SITE_CONTEXT,
      "the token's qsh leaves out `/wiki`, the path of the Confluence site's baseUrl",
      "the qsh path is relative to the site's baseUrl, which ends in /wiki: use https://<site>.atlassian.net/wiki as the baseUrl the path is stripped of",
    );
  } else {
    yield fromCanonical(
      canonicalMethod,
      SITE_CONTEXT + (canonicalUri === '/' ? '' : canonicalUri),
      canonicalQueryString,
      "the token's qsh includes `/wiki`, the path of the Confluence site's baseUrl",
      "the site's baseUrl path was hashed: qsh paths are relative to the site's baseUrl (https://<site>.atlassian.net/wiki), so the signer must strip /wiki",
    );
  }

  // 3. The app's baseUrl path prefix is not the one the product strips.
  if (r.stripped && startsWithSegments(rest, r.context)) {
    const once = r.context + rest.slice(r.context.length);
    yield {
      method: r.method,
      url: buildUrl(r.origin, once, r.query),
      baseUrl: r.baseUrl,
      description: `the context path ${r.context} appears twice in the request path (${r.context}${r.context}/…)`,
      hint: `${PREFIX_HINT}the app's baseUrl must be ${appOrigin}${r.context}, and the proxy must forward ${r.context}/… without adding ${r.context} again`,
    };
  } else if (!r.stripped) {
    const segments = rest.split('/');
    if (segments.length >= 3 && segments[1] !== '' && segments[1] === segments[2]) {
      const prefix = `/${segments[1]}`;
      yield {
        method: r.method,
        url: buildUrl(r.origin, rest.slice(prefix.length), r.query),
        baseUrl: prefix,
        description: `the path prefix ${prefix} appears twice in the request path (${prefix}${prefix}/…)`,
        hint: `${PREFIX_HINT}the app's baseUrl must be ${appOrigin}${prefix}, and the proxy must forward ${prefix}/… without adding ${prefix} again`,
      };
    }
  }
  const restSegments = rest.split('/').slice(1);
  for (let k = 1; k <= Math.min(3, restSegments.length); k++) {
    const added = '/' + restSegments.slice(0, k).join('/');
    if (added.endsWith('/') || restSegments.slice(0, k).some((segment) => segment === '')) break;
    const context = (r.stripped ? r.context : '') + added;
    yield withContext(
      context,
      `the product strips ${added} from the path, but the app's baseUrl ${r.baseUrl === undefined ? 'was not given' : `(${r.baseUrl}) does not include it`}`,
      `${PREFIX_HINT}the app's baseUrl must be ${appOrigin}${context}`,
    );
  }
  if (r.stripped) {
    const contextSegments = r.context.split('/').slice(1);
    for (let keep = contextSegments.length - 1; keep >= 0; keep--) {
      const context = keep === 0 ? '' : '/' + contextSegments.slice(0, keep).join('/');
      const dropped = r.context.slice(context.length);
      yield withContext(
        context,
        `the product signed the path with ${dropped} in it: its baseUrl for this app ends before ${dropped}`,
        `${PREFIX_HINT}the app's baseUrl must be ${appOrigin}${context}`,
      );
    }
  }

  // 4. A trailing slash. Only one is dropped before hashing, so one more slash is either a slash the
  // proxy removed from a path that ended in two, or (far more often) a signer that keeps the slash.
  if (canonicalUri !== '/') {
    yield fromCanonical(
      canonicalMethod,
      canonicalUri + '/',
      canonicalQueryString,
      `the token's qsh covers the path with a trailing slash (\`${canonicalUri}/\`): the signer keeps the slash that Connect drops, or one was removed on the way`,
      `${TRAILING_SLASH_HINT}; a conforming signer drops one trailing slash before hashing`,
    );
  }
  if (rest.endsWith('/')) yield withRest(rest.slice(0, -1), 'a trailing slash was added on the way (the product signed one `/` less)', TRAILING_SLASH_HINT);

  // 5. The query string.
  if (r.query !== undefined && r.query !== '') {
    const query = r.query;
    if (query.includes('+')) yield withQuery(query.replaceAll('+', '%2B'), 'the product signed a literal plus (`%2B`) in the query that arrived as `+` (a space)', QUERY_HINT);
    if (/%2B/i.test(query)) yield withQuery(query.replace(/%2B/gi, '+'), 'the product signed `+` (a space) in the query that arrived as `%2B` (a literal plus)', QUERY_HINT);
    if (/%25[0-9A-Fa-f]{2}/.test(query))
      yield withQuery(query.replace(/%25([0-9A-Fa-f]{2})/g, '%$1'), 'the query was percent-encoded a second time on the way (`%2520` for `%20`)', QUERY_HINT);
    const rejoined = rejoinDecodedAmpersands(query);
    if (rejoined !== query) yield withQuery(rejoined, 'the product signed `%26` in a query value that arrived decoded as `&`', QUERY_HINT);
    if (/%[0-9A-Fa-f]{2}/.test(query))
      yield withQuery(
        query.replace(/%([0-9A-Fa-f]{2})/g, '%25$1'),
        'the query was percent-decoded once on the way (the product signed `%2520` where the app saw `%20`)',
        QUERY_HINT,
      );
    const withJwt = canonicalQueryWithJwt(canonicalQueryString, query);
    if (withJwt !== undefined) {
      yield fromCanonical(
        canonicalMethod,
        canonicalUri,
        withJwt,
        "the token's qsh covers the `jwt` query parameter, which must be left out of the hash",
        'the signer hashed the URL with the token parameter in it: compute the qsh before adding `jwt` to the URL (and leave `jwt` out when verifying)',
      );
    }
    yield withQuery(
      undefined,
      'the product signed the request without a query string; the app saw one',
      "the query was added on the way (a proxy, a redirect or the page's own script): the product signed the URL without it",
    );
    const pairs = query.split('&').filter((pair) => pair !== '');
    if (pairs.length > 1) {
      for (let i = 0; i < Math.min(pairs.length, MAX_POSITIONS); i++) {
        const name = pairs[i]!.split('=')[0]!;
        yield withQuery(
          pairs.filter((_, j) => j !== i).join('&'),
          `the product did not sign the query parameter \`${name}\`; the app saw it`,
          `\`${name}\` was added to the URL on the way (a proxy, a redirect or the page's own script): the product signed the URL without it`,
        );
      }
    }
  }

  // 6. The method.
  const given = r.method;
  for (const variant of new Set([given, given.toLowerCase()])) {
    if (variant === canonicalMethod) continue;
    yield fromCanonical(
      variant,
      canonicalUri,
      canonicalQueryString,
      `the token's qsh was computed with the method in ${variant === variant.toLowerCase() ? 'lower' : 'mixed'} case (\`${variant}\`)`,
      'the signer must upper-case the method before hashing (`GET`, not `get`)',
    );
  }
  for (const other of HTTP_METHODS) {
    if (other === canonicalMethod) continue;
    yield fromCanonical(
      other,
      canonicalUri,
      canonicalQueryString,
      `the token was signed for a ${other} request, not ${canonicalMethod}`,
      `the method is part of the qsh: check the method of the request the product made (${other}); lifecycle callbacks and webhooks are POST, page loads GET`,
    );
  }
}

function tryCanonical(method: string, url: string, baseUrl: string | undefined): string | undefined {
  try {
    return canonicalRequest(method, url, baseUrl);
  } catch {
    return undefined;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** `METHOD&URI&QUERY`; the URI never holds a raw `&` (the canonical form escapes it). */
function splitCanonical(canonical: string): [string, string, string] {
  const first = canonical.indexOf('&');
  const second = canonical.indexOf('&', first + 1);
  return [canonical.slice(0, first), canonical.slice(first + 1, second), canonical.slice(second + 1)];
}

function splitUrl(url: string): { origin: string; path: string; query: string | undefined } {
  const hash = url.indexOf('#');
  const withoutFragment = hash === -1 ? url : url.slice(0, hash);
  const q = withoutFragment.indexOf('?');
  const beforeQuery = q === -1 ? withoutFragment : withoutFragment.slice(0, q);
  const query = q === -1 ? undefined : withoutFragment.slice(q + 1);
  const origin = beforeQuery.startsWith('/') ? '' : (/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]*/.exec(beforeQuery)?.[0] ?? '');
  return { origin, path: beforeQuery.slice(origin.length), query };
}

function buildUrl(origin: string, path: string, query: string | undefined): string {
  return origin + path + (query === undefined ? '' : `?${query}`);
}

function trimTrailingSlashes(path: string): string {
  return path.replace(/\/+$/, '');
}

/** `path` begins with `prefix` as whole segments (`/wiki` matches `/wiki` and `/wiki/x`, not `/wikipedia`). */
function startsWithSegments(path: string, prefix: string): boolean {
  return prefix !== '' && path.startsWith(prefix) && (path.length === prefix.length || path[prefix.length] === '/');
}

/** Positions of the `/` that separate segments (not the leading one, not a trailing one). */
function slashPositions(path: string): number[] {
  const positions: number[] = [];
  for (let i = 1; i < path.length - 1; i++) if (path[i] === '/') positions.push(i);
  return positions;
}

/** Percent-encodes what a product would have escaped in a path: everything but RFC 3986 pchars, `/` and existing escapes. */
function encodePath(path: string): string {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c === '%' && /^[0-9A-Fa-f]{2}$/.test(path.slice(i + 1, i + 3))) {
      out += c;
    } else if (/[A-Za-z0-9\-._~!$&'()*+,;=:@/]/.test(c)) {
      out += c;
    } else {
      const code = path.codePointAt(i)!;
      const char = String.fromCodePoint(code);
      i += char.length - 1;
      try {
        out += encodeURIComponent(char);
      } catch {
        out += '%EF%BF%BD';
      }
    }
  }
  return out;
}

/** Decodes escapes of unreserved characters (`%7E` → `~`, `%41` → `A`), which RFC 3986 calls equivalent. */
function decodeUnreservedEscapes(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : escape;
  });
}

/** Decodes every escape but `%2F` and `%25` (which would change the path's structure), segment by segment. */
function decodePath(path: string): string | undefined {
  try {
    return path
      .split(/(%2[Ff]|%25)/)
      .map((part, i) => (i % 2 === 1 ? part : decodeURIComponent(part)))
      .join('');
  } catch {
    return undefined;
  }
}

/** Undoes a decoded `%26`: a fragment without `=` after an `&` is joined back to the pair before it. */
function rejoinDecodedAmpersands(query: string): string {
  const pairs = query.split('&');
  const out: string[] = [];
  for (const pair of pairs) {
    if (out.length > 0 && pair !== '' && !pair.includes('=')) out[out.length - 1] += `%26${pair}`;
    else out.push(pair);
  }
  return out.join('&');
}

/** The canonical query with the `jwt` parameter(s) of `rawQuery` put back in, or undefined when there is none. */
function canonicalQueryWithJwt(canonicalQueryString: string, rawQuery: string): string | undefined {
  const values = rawQuery
    .split('&')
    .filter((pair) => pair === 'jwt' || pair.startsWith('jwt='))
    .map((pair) => encodeRfc3986(safeDecode(pair.slice(4))));
  if (values.length === 0) return undefined;
  values.sort();
  const pairs = canonicalQueryString === '' ? [] : canonicalQueryString.split('&');
  pairs.push(`jwt=${values.join(',')}`);
  pairs.sort((a, b) => {
    const nameA = a.slice(0, a.indexOf('='));
    const nameB = b.slice(0, b.indexOf('='));
    return nameA < nameB ? -1 : nameA > nameB ? 1 : 0;
  });
  return pairs.join('&');
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}

function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
