import { classifyLifecycleStatus, descriptorChecks, isLoopback, parseDoctorTarget, PROBE_CLIENT_KEY, runDoctorChecks, type DoctorCheck } from './doctor-checks.js';

const BASE = 'https://app.example.com/jira';
const goodDescriptor = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  key: 'com.example.jira',
  baseUrl: BASE,
  authentication: { type: 'jwt' },
  lifecycle: { installed: '/installed', uninstalled: '/uninstalled', enabled: '/enabled', disabled: '/disabled' },
  apiMigrations: { 'signed-install': true, 'context-qsh': true },
  ...overrides,
});
const statusOf = (checks: DoctorCheck[], name: string) => checks.find((check) => check.name === name)?.status;

interface Call {
  url: string;
  method: string;
  body?: string;
}

/** A fetch that answers from a table of `METHOD url` → response factory; anything else is a refused connection. */
function fakeFetch(routes: Record<string, () => Response>): typeof fetch & { calls: Call[] } {
  const calls: Call[] = [];
  const impl = async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    const method = init?.method ?? 'GET';
    calls.push({ url, method, ...(typeof init?.body === 'string' && { body: init.body }) });
    const route = routes[`${method} ${url}`];
    if (route === undefined) throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    return route();
  };
  return Object.assign(impl as typeof fetch, { calls });
}

const json =
  (value: unknown, status = 200) =>
  () =>
    new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });
const status = (code: number) => () => new Response(null, { status: code });

describe('parseDoctorTarget', () => {
  it.each([
    ['https://app.example.com/jira', `${BASE}/atlassian-connect.json`, BASE],
    ['https://app.example.com/jira/', `${BASE}/atlassian-connect.json`, BASE],
    ['https://app.example.com', 'https://app.example.com/atlassian-connect.json', 'https://app.example.com'],
    [`${BASE}/atlassian-connect.json`, `${BASE}/atlassian-connect.json`, BASE],
    ['https://app.example.com/descriptor.json', 'https://app.example.com/descriptor.json', undefined],
  ])('%s', (input, descriptorUrl, baseUrl) => {
    expect(parseDoctorTarget(input)).toEqual({ descriptorUrl, baseUrl });
  });

  it.each(['app.example.com', 'ftp://app.example.com', 'https://user:pw@app.example.com', 'https://app.example.com/jira?x=1'])('refuses %s', (input) => {
    expect(() => parseDoctorTarget(input)).toThrow();
  });
});

describe('descriptorChecks', () => {
  it('passes a descriptor the framework serves', () => {
    const checks = descriptorChecks(goodDescriptor(), BASE);
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['key', 'pass'],
      ['baseUrl', 'pass'],
      ['https', 'pass'],
      ['port', 'pass'],
      ['authentication', 'pass'],
      ['signed-install', 'pass'],
      ['context-qsh', 'pass'],
    ]);
  });

  it('fails missing migrations and authentication', () => {
    const checks = descriptorChecks(goodDescriptor({ apiMigrations: { 'context-qsh': true }, authentication: { type: 'none' } }), BASE);
    expect(statusOf(checks, 'signed-install')).toBe('fail');
    expect(statusOf(checks, 'context-qsh')).toBe('pass');
    expect(statusOf(checks, 'authentication')).toBe('fail');
    expect(statusOf(descriptorChecks(goodDescriptor({ apiMigrations: undefined }), BASE), 'context-qsh')).toBe('fail');
  });

  it('fails a baseUrl that is not where the descriptor is served', () => {
    const checks = descriptorChecks(goodDescriptor({ baseUrl: 'https://elsewhere.example.com/jira' }), BASE);
    expect(checks.find((c) => c.name === 'baseUrl')).toEqual({
      status: 'fail',
      name: 'baseUrl',
      message: 'the descriptor declares https://elsewhere.example.com/jira, but is served at https://app.example.com/jira: the product calls the declared one',
    });
    expect(statusOf(descriptorChecks(goodDescriptor({ baseUrl: 'HTTPS://APP.example.com:443/jira/' }), BASE), 'baseUrl')).toBe('pass');
    expect(statusOf(descriptorChecks(goodDescriptor({ baseUrl: 42 }), BASE), 'baseUrl')).toBe('fail');
  });

  it('warns about http except on loopback, and about unusual ports', () => {
    expect(statusOf(descriptorChecks(goodDescriptor({ baseUrl: 'http://app.example.com/jira' }), undefined), 'https')).toBe('warn');
    expect(statusOf(descriptorChecks(goodDescriptor({ baseUrl: 'http://127.0.0.1:8080/jira' }), undefined), 'https')).toBe('pass');
    expect(statusOf(descriptorChecks(goodDescriptor({ baseUrl: 'http://127.0.0.1:8080/jira' }), undefined), 'port')).toBe('pass');
    expect(statusOf(descriptorChecks(goodDescriptor({ baseUrl: 'https://app.example.com:8443/jira' }), undefined), 'port')).toBe('warn');
    expect(statusOf(descriptorChecks(goodDescriptor(), undefined), 'baseUrl')).toBe('warn');
  });

  it('fails a missing or over-long key', () => {
    expect(statusOf(descriptorChecks(goodDescriptor({ key: undefined }), BASE), 'key')).toBe('fail');
    expect(statusOf(descriptorChecks(goodDescriptor({ key: 'k'.repeat(65) }), BASE), 'key')).toBe('fail');
  });
});

describe('classifyLifecycleStatus', () => {
  it.each([
    [401, 'pass'],
    [400, 'warn'],
    [403, 'warn'],
    [200, 'fail'],
    [204, 'fail'],
    [302, 'fail'],
    [404, 'fail'],
    [405, 'fail'],
    [500, 'fail'],
    [503, 'fail'],
    [418, 'fail'],
  ])('HTTP %p is %p', (code, expected) => {
    expect(classifyLifecycleStatus('lifecycle installed', `${BASE}/installed`, code).status).toBe(expected);
  });
});

describe('isLoopback', () => {
  it.each([
    ['localhost', true],
    ['app.localhost', true],
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['[::1]', true],
    ['127.example.com', false],
    ['10.0.0.1', false],
  ])('%s: %p', (host, expected) => {
    expect(isLoopback(host)).toBe(expected);
  });
});

describe('runDoctorChecks', () => {
  const KEYS = 'http://keys.test';

  it('checks the descriptor, every lifecycle route and the install keys host', async () => {
    const fetch = fakeFetch({
      [`GET ${BASE}/atlassian-connect.json`]: json(goodDescriptor({ lifecycle: { installed: '/installed', uninstalled: 'uninstalled', enabled: '/enabled' } })),
      [`POST ${BASE}/installed`]: status(401),
      [`POST ${BASE}/uninstalled`]: status(500),
      [`POST ${BASE}/enabled`]: status(404),
      [`GET ${KEYS}/`]: status(404),
    });
    const seen: DoctorCheck[] = [];
    const checks = await runDoctorChecks(parseDoctorTarget(BASE), { fetch, timeoutMs: 1000, installKeysUrl: KEYS, onCheck: (c) => seen.push(c) });
    expect(seen).toEqual(checks);
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['descriptor', 'pass'],
      ['key', 'pass'],
      ['baseUrl', 'pass'],
      ['https', 'pass'],
      ['port', 'pass'],
      ['authentication', 'pass'],
      ['signed-install', 'pass'],
      ['context-qsh', 'pass'],
      ['lifecycle installed', 'pass'],
      ['lifecycle uninstalled', 'fail'],
      ['lifecycle enabled', 'fail'],
      ['lifecycle disabled', 'warn'],
      ['install keys', 'pass'],
    ]);
    expect(checks.find((c) => c.name === 'lifecycle enabled')?.message).toContain('does not exist');
    const probe = fetch.calls.find((call) => call.method === 'POST');
    expect(JSON.parse(probe!.body!)).toMatchObject({ clientKey: PROBE_CLIENT_KEY, eventType: 'installed' });
    expect(probe!.body).not.toContain('sharedSecret');
  });

  it('fails a descriptor that is not JSON and skips what needs it', async () => {
    const fetch = fakeFetch({ [`GET ${BASE}/atlassian-connect.json`]: () => new Response('<html>', { status: 200 }), [`GET ${KEYS}/`]: status(200) });
    const checks = await runDoctorChecks(parseDoctorTarget(BASE), { fetch, timeoutMs: 1000, installKeysUrl: KEYS });
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['descriptor', 'fail'],
      ['install keys', 'pass'],
    ]);
    expect(checks[0]!.message).toContain('not valid JSON');
  });

  it('fails a descriptor answering 404 and an unreachable given install keys URL', async () => {
    const fetch = fakeFetch({ [`GET ${BASE}/atlassian-connect.json`]: status(404) });
    const checks = await runDoctorChecks(parseDoctorTarget(BASE), { fetch, timeoutMs: 1000, installKeysUrl: KEYS });
    expect(checks[0]!.message).toContain('HTTP 404');
    expect(checks[1]).toMatchObject({ name: 'install keys', status: 'fail' });
    expect(checks[1]!.message).toContain('ECONNREFUSED');
  });

  it("only warns when Atlassian's default install keys host is unreachable", async () => {
    const fetch = fakeFetch({ [`GET ${BASE}/atlassian-connect.json`]: status(500) });
    const checks = await runDoctorChecks(parseDoctorTarget(BASE), { fetch, timeoutMs: 1000 });
    expect(checks[1]).toMatchObject({ name: 'install keys', status: 'warn' });
    expect(fetch.calls.at(-1)?.url).toBe('https://connect-install-keys.atlassian.com/');
  });
});
