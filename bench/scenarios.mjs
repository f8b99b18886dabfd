// The measured scenarios: requests built the way Jira builds them (real HS256 tokens over the exact
// request, real RS256 signed installs), fired with autocannon, every response's status checked.
import { createHmac } from 'node:crypto';

import autocannon from 'autocannon';
import { SignJWT } from 'jose';

/** A query string of exactly `length` characters, shaped like what Jira appends to an iframe URL. */
export function connectLikeQuery(length = 1024) {
  const base = [
    'xdm_e=https%3A%2F%2Fbench-site.atlassian.net',
    'xdm_c=channel-com.example.connect-nest.jira__bench-panel',
    'cp=',
    'xdm_deprecated_addon_key_do_not_use=com.example.connect-nest.jira',
    'lic=active',
    'cv=1001.0.0-SNAPSHOT',
    'project.key=BENCH',
    'project.id=10000',
    'issue.key=BENCH-123',
    'issue.id=10123',
    'issuetype.id=10001',
    'user_id=5b10ac8d82e05b22cc7d4ef5',
    'tz=Europe%2FBerlin',
    'loc=en-US',
    'labels=alpha&labels=beta&labels=gamma%20delta',
  ].join('&');
  const filler = 'jql=' + encodeURIComponent('project = BENCH AND status in ("In Progress", "To Do") ORDER BY created DESC, key ASC ').repeat(20);
  const query = `${base}&${filler}`;
  if (query.length < length) throw new Error('query template too short');
  // Cut inside the jql value; a %XX escape cut short is padded with plain characters instead.
  const cut = query.slice(0, length);
  const broken = /%[0-9A-F]?$/.exec(cut);
  return broken ? cut.slice(0, broken.index) + 'x'.repeat(broken[0].length) : cut;
}

/** HS256 request tokens for `tenants`, one per tenant, as request definitions for autocannon. */
export async function signedRequests(testing, { tenants, path, appBaseUrl, qsh, expiresIn }) {
  return Promise.all(
    tenants.map(async (tenant) => {
      const token = await testing.signConnectToken({
        clientKey: tenant.clientKey,
        sharedSecret: tenant.sharedSecret,
        method: 'GET',
        url: path,
        appBaseUrl,
        expiresIn,
        ...(qsh === 'context' && { qsh: 'context' }),
      });
      return { method: 'GET', path, headers: { authorization: `JWT ${token}` } };
    }),
  );
}

/**
 * Authorization headers for many tenants at once (the sweep signs tens of thousands): the same HS256
 * token `signConnectToken` makes (`iss`, `iat`, `exp`, `qsh` over the request), with one HMAC per token
 * instead of a jose key import and signature each. The preflight request checks the app accepts them.
 */
export function fastAuthorizations(connect, { tenants, method = 'GET', path, appBaseUrl, expiresIn, count }) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = encode({ alg: 'HS256', typ: 'JWT' });
  const qsh = connect.queryStringHash(method, path, appBaseUrl);
  const iat = Math.floor(Date.now() / 1000);
  const sign = (tenant, claims) => {
    const input = `${header}.${encode(claims)}`;
    return `JWT ${input}.${createHmac('sha256', tenant.sharedSecret).update(input).digest('base64url')}`;
  };
  if (count === undefined) return tenants.map((tenant) => sign(tenant, { iss: tenant.clientKey, iat, exp: iat + expiresIn, qsh }));
  // `count` tokens, the tenants taking turns, each for another user (sub): no two alike.
  return Array.from({ length: count }, (_, i) => {
    const tenant = tenants[i % tenants.length];
    return sign(tenant, { iss: tenant.clientKey, sub: `bench-user-${i}`, iat, exp: iat + expiresIn, qsh });
  });
}

/**
 * One request definition that autocannon rebuilds for every request (`setupRequest`), each time with
 * the next of `authorizations`, starting at `start`, each one sent `times` times in a row. `handedOut`
 * counts the requests; `wrapped` says whether the list ran out and started over (so some went out
 * more often).
 */
export function rotatingAuthorizations(path, authorizations, start = 0, times = 1) {
  let next = start;
  return {
    requests: [
      {
        method: 'GET',
        path,
        setupRequest: (request) => {
          const authorization = authorizations[Math.floor(next / times) % authorizations.length];
          next += 1;
          return { ...request, headers: { authorization } };
        },
      },
    ],
    get handedOut() {
      return next - start;
    },
    get wrapped() {
      return next - start > authorizations.length * times;
    },
  };
}

/** The same requests sent to another path (same headers, so the bytes on the wire match in size). */
export function retarget(requests, path) {
  return requests.map((request) => ({ ...request, path }));
}

/**
 * The signed install the product posts to `<baseUrl>/installed`: RS256 with the fake host's key (its
 * public key served by the host's key server; the app caches it after the first fetch).
 */
export async function signedInstallRequest(connect, { host, keyPair, app, site, expiresIn }) {
  const path = `${new URL(app.baseUrl).pathname.replace(/\/+$/, '')}/installed`;
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({
    iss: site.clientKey,
    aud: app.baseUrl,
    qsh: connect.queryStringHash('POST', path, app.baseUrl),
    iat: now,
    exp: now + expiresIn,
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: keyPair.kid })
    .sign(keyPair.privateKey);
  return {
    method: 'POST',
    path,
    headers: { authorization: `JWT ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(host.lifecyclePayload(app, site, 'installed')),
  };
}

/**
 * One request through `fetch`, checked before load is put on a route: a misconfigured scenario fails
 * here with the app's answer instead of as a table full of 401s.
 */
export async function preflight(url, request, expectedStatus, check) {
  const response = await fetch(url + request.path, { method: request.method, headers: request.headers, body: request.body, signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  if (response.status !== expectedStatus) {
    throw new Error(`${request.method} ${request.path.slice(0, 80)} answered ${response.status} (expected ${expectedStatus}): ${text.slice(0, 300)}`);
  }
  if (check) check(text);
}

/**
 * Sends every request once (`concurrency` at a time) and checks each answer: before the authenticated
 * routes are measured, each tenant of the pool is in the tenant cache, as on a warm server.
 */
export async function prefill(url, requests, concurrency, expectedStatus = 200) {
  let next = 0;
  const failures = [];
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++];
      const response = await fetch(url + request.path, { method: request.method, headers: request.headers, signal: AbortSignal.timeout(30_000) });
      await response.arrayBuffer();
      if (response.status !== expectedStatus) failures.push(response.status);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, worker));
  if (failures.length > 0) throw new Error(`${failures.length} of ${requests.length} requests failed while filling the cache (${[...new Set(failures)].join(', ')})`);
}

/**
 * One autocannon run: `duration` seconds, or `amount` requests when given. `requests` rotate per
 * connection; a request with `setupRequest` is rebuilt each time. Every response must have
 * `expectedStatus`; anything else (other statuses, connection errors, timeouts) counts in `errors`.
 * Returns the raw part `{ total, seconds, latencies, errors, cpuMs, statuses }` (see `summarize`), where
 * `cpuMs` is the CPU time the app process used meanwhile (when `appCpuMs` reads it).
 */
export async function runOnce({ url, requests, connections, duration, amount, expectedStatus, timeoutMs, appCpuMs }) {
  // sampleInt: autocannon stops at the first sample tick after `duration`; 100 ms keeps short rounds short.
  const options = { url, connections, pipelining: 1, requests, timeout: 10, sampleInt: 100, ...(amount ? { amount } : { duration }) };
  // autocannon's histogram keeps whole milliseconds; the response events carry the exact time.
  const latencies = [];
  const onResponse = (_client, status, _bytes, responseTime) => {
    if (status === expectedStatus) latencies.push(responseTime);
  };
  const cpuBefore = appCpuMs?.();
  const result = await runCannon(options, timeoutMs, onResponse);
  const cpuAfter = appCpuMs?.();
  const expected = result.statusCodeStats[String(expectedStatus)]?.count ?? 0;
  const answered = Object.values(result.statusCodeStats).reduce((sum, { count }) => sum + count, 0);
  return {
    total: result.requests.total,
    seconds: result.duration > 0 ? result.duration : duration,
    latencies,
    errors: answered - expected + result.errors + result.timeouts,
    cpuMs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
    statuses: Object.fromEntries(Object.entries(result.statusCodeStats).map(([status, { count }]) => [status, count])),
  };
}

/** autocannon with a watchdog: a run that does not end in `timeoutMs` is stopped (and reported as such). */
function runCannon(options, timeoutMs, onResponse) {
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const instance = autocannon(options, (error, result) => {
      clearTimeout(watchdog);
      if (error) return reject(error);
      if (timedOut) result.timeouts += 1;
      resolve(result);
    });
    if (onResponse) instance.on('response', onResponse);
    const watchdog = setTimeout(
      () => {
        timedOut = true;
        instance.stop();
      },
      timeoutMs ?? ((options.duration ?? 60) + 30) * 1000,
    );
  });
}
