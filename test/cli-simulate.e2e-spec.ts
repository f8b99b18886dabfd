import { httpCall } from 'atlassian-connect-nest/testing';
import { CONFLUENCE_APP_KEY, JIRA_APP_KEY } from '../src/example/app.module.js';
import {
  assertCliBuilt,
  freePort,
  runCli,
  startBrokenApp,
  startCli,
  startExampleOn,
  startRewritingProxy,
  type CliRun,
  type ListeningExample,
  type SmallServer,
} from './support/simulate-kit.js';

/** The table row of a step: `<step>  <status>  <ms>  <result>`. */
function row(run: CliRun, step: string): string {
  const line = run.stdout.split('\n').find((l) => l.startsWith(step));
  if (line === undefined) throw new Error(`No row ${JSON.stringify(step)} in:\n${run.stdout}\n${run.stderr}`);
  return line;
}

function expectRow(run: CliRun, step: string, status: number | '-', result: RegExp | string): void {
  const line = row(run, step);
  const match = /^(.*?)\s{2,}(\d+|-)\s+(\d+|-)\s{2}(.*)$/.exec(line);
  expect(match).not.toBeNull();
  expect(match![2]).toBe(String(status));
  if (typeof result === 'string') expect(match![4]).toBe(result);
  else expect(match![4]).toMatch(result);
}

describe('atlassian-connect-nest simulate (built CLI against the example app)', () => {
  let keysPort: number;
  let example: ListeningExample;

  beforeAll(async () => {
    assertCliBuilt();
    keysPort = await freePort();
    example = await startExampleOn(await freePort(), `http://127.0.0.1:${keysPort}`);
  });
  afterAll(async () => {
    await example?.close();
  });

  it('passes for the Jira app: descriptor, signed install, enable, page, context URL', async () => {
    const run = await runCli(['simulate', '--descriptor', `${example.url}/jira/atlassian-connect.json`, '--keys-port', String(keysPort), '--context-url', '/api/context/whoami']);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`Descriptor of ${JIRA_APP_KEY}: Jira app (guessed from location system.top.navigation.bar).`);
    expect(run.stdout).toMatch(/Simulated Jira site: http:\/\/127\.0\.0\.1:\d+ \(clientKey [0-9a-f-]{36}\)/);
    expectRow(run, 'descriptor (GET)', 200, 'ok (1 warning, listed above)');
    expectRow(run, 'installed (signed install, RS256)', 204, 'ok');
    expectRow(run, 'enabled (HS256)', 204, 'ok');
    expectRow(run, 'enabled with a context token (must fail)', 401, 'ok');
    expectRow(run, 'page generalPages/hello-page', 200, 'ok');
    expectRow(run, 'context token GET /api/context/whoami', 200, 'ok');
    expect(run.stdout).toMatch(/\nPASS: \d+ steps, 0 failed\./);
  });

  it('passes for the Confluence app (--product) with --rotate and --uninstall', async () => {
    const run = await runCli([
      'simulate',
      '--descriptor',
      `${example.url}/confluence/atlassian-connect.json`,
      '--product',
      'confluence',
      '--keys-port',
      String(keysPort),
      '--rotate',
      '--uninstall',
    ]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`Descriptor of ${CONFLUENCE_APP_KEY}: Confluence app (--product).`);
    expect(run.stdout).toMatch(/Simulated Confluence site: http:\/\/127\.0\.0\.1:\d+\/wiki /);
    expectRow(run, 'page generalPages/hello-page', 200, 'ok');
    expectRow(run, 'page staticContentMacros/hello-macro', 200, 'ok');
    expectRow(run, 'installed again (rotated secret)', 204, 'ok');
    expectRow(run, 'old secret refused: hello-page', 401, 'ok');
    expectRow(run, 'new secret accepted: hello-page', 200, 'ok');
    expectRow(run, 'disabled (HS256)', 204, 'ok');
    expectRow(run, 'uninstalled (signed, RS256)', 204, 'ok');
    expectRow(run, 'refused after uninstall: hello-page', 401, 'ok');
    expect(run.stdout).toMatch(/\nPASS: \d+ steps, 0 failed\./);
  });

  it('--keep stays up, signs tokens on request, and stops on SIGTERM', async () => {
    const sitePort = await freePort();
    const cli = await startCli(
      ['simulate', '--descriptor', `${example.url}/jira/atlassian-connect.json`, '--keys-port', String(keysPort), '--port', String(sitePort), '--keep'],
      'Simulator running',
    );
    let stopped = false;
    try {
      const out = cli.stdout();
      expect(out).toMatch(/# generalPages\/hello-page\ncurl -i 'http:\/\/127\.0\.0\.1:\d+\/jira\/pages\/hello\?xdm_e=.*&jwt=[\w-]+\.[\w-]+\.[\w-]+'/);
      expect(out).toContain(`More tokens: curl 'http://127.0.0.1:${sitePort}/_simulator/token?method=GET&url=<path below the app origin>'`);

      // The printed curl line works as it stands.
      const pageUrl = /curl -i '([^']+)'/.exec(out)![1]!;
      expect((await httpCall({ method: 'GET', url: pageUrl })).status).toBe(200);

      const token = await httpCall({ method: 'GET', url: `http://127.0.0.1:${sitePort}/_simulator/token?method=GET&url=${encodeURIComponent('/jira/api/whoami?x=1')}` });
      expect(token.status).toBe(200);
      const whoami = await httpCall({ method: 'GET', url: `${example.url}/jira/api/whoami?x=1`, headers: { authorization: `JWT ${token.text.trim()}` } });
      expect(whoami.status).toBe(200);
      expect(whoami.body).toMatchObject({ accountId: '5b10ac8d82e05b22cc7d4ef5', productType: 'jira' });

      const context = await httpCall({ method: 'GET', url: `http://127.0.0.1:${sitePort}/_simulator/token?url=/jira/api/context/whoami&qsh=context&sub=someone&format=json` });
      expect(context.body).toMatchObject({ qsh: 'context-qsh', canonicalRequest: null });
      const contextCall = await httpCall({
        method: 'GET',
        url: `${example.url}/jira/api/context/whoami`,
        headers: { authorization: `JWT ${(context.body as { token: string }).token}` },
      });
      expect(contextCall.body).toMatchObject({ accountId: 'someone' });

      // The app's outbound calls to the simulated site are printed as they happen.
      expect((await httpCall({ method: 'GET', url: `http://127.0.0.1:${sitePort}/rest/api/3/myself` })).status).toBe(401);

      const run = await cli.stop();
      stopped = true;
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('site API: GET /rest/api/3/myself -> 401: missing-credentials: Authentication is required: no Authorization header was sent.');
      expect(run.stdout).toContain('Simulator stopped.');
    } finally {
      if (!stopped) await cli.stop();
    }
  });

  it('says exactly what to set when the app fetches its install key elsewhere', async () => {
    const otherKeysPort = await freePort();
    const run = await runCli(['simulate', '--descriptor', `${example.url}/jira/atlassian-connect.json`, '--keys-port', String(otherKeysPort)]);
    expect(run.code).toBe(1);
    expectRow(run, 'installed (signed install, RS256)', 503, /^FAIL: POST \/jira\/installed answered 503 \(jwt\/key-unavailable: .*\); expected 2xx$/);
    expect(run.stdout).toContain(
      `Start the app with CONNECT_INSTALL_KEYS_URL=http://127.0.0.1:${otherKeysPort}, or run simulate with --keys-port ${keysPort}, the port the app fetches from.`,
    );
    expect(run.stdout).toContain('FAIL: 2 steps, 1 failed.');
  });

  describe('against apps that disagree with their descriptor', () => {
    let proxies: SmallServer[] = [];
    afterEach(async () => {
      await Promise.all(proxies.map((p) => p.close()));
      proxies = [];
    });

    it('fails when the descriptor key is not the key the app expects in the install', async () => {
      const proxy = await startRewritingProxy(example.url, (descriptor) => ({ ...descriptor, key: 'com.example.someone-else' }));
      proxies.push(proxy);
      const run = await runCli(['simulate', '--descriptor', `${proxy.url}/jira/atlassian-connect.json`, '--keys-port', String(keysPort)]);
      expect(run.code).toBe(1);
      expectRow(
        run,
        'installed (signed install, RS256)',
        400,
        `FAIL: POST /jira/installed answered 400 (lifecycle/invalid-payload: The payload is for app "com.example.someone-else", but this is "${JIRA_APP_KEY}".); expected 2xx`,
      );
      expect(run.stdout).toContain('Hint: The app refused the install payload');
    });

    it('fails when the app believes in another baseUrl than the descriptor (aud refused)', async () => {
      const proxy = await startRewritingProxy(example.url, (descriptor, self) => ({ ...descriptor, baseUrl: `${self}/jira` }));
      proxies.push(proxy);
      const run = await runCli(['simulate', '--descriptor', `${proxy.url}/jira/atlassian-connect.json`, '--keys-port', String(keysPort)]);
      expect(run.code).toBe(1);
      expectRow(
        run,
        'installed (signed install, RS256)',
        401,
        `FAIL: POST /jira/installed answered 401 (jwt/invalid-aud: The install was signed for another app (aud is not ${example.url}/jira).); expected 2xx`,
      );
      expect(run.stdout).toContain(`Hint: The app refused aud ${proxy.url}/jira: the descriptor's baseUrl must be exactly the baseUrl the app is configured with`);
    });
  });
});

describe('atlassian-connect-nest simulate (built CLI against a broken app)', () => {
  let broken: SmallServer;

  beforeAll(async () => {
    assertCliBuilt();
    broken = await startBrokenApp();
  });
  afterAll(async () => {
    await broken?.close();
  });

  it('reports descriptor errors, the missing page, the crashing page and the accepted context token', async () => {
    const run = await runCli(['simulate', '--descriptor', `${broken.url}/broken/atlassian-connect.json`, '--product', 'jira', '--uninstall']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      '  error   scopes[1]: "SPACE_ADMIN" is not a Jira scope (it is a Confluence scope); valid: READ, WRITE, DELETE, ADMIN, ACT_AS_USER, ACCESS_EMAIL_ADDRESSES, PROJECT_ADMIN.',
    );
    expectRow(run, 'descriptor (GET)', 200, 'FAIL: 1 error, 1 warning, listed above');
    expectRow(run, 'installed (signed install, RS256)', 204, 'ok');
    expectRow(
      run,
      'enabled with a context token (must fail)',
      204,
      'FAIL: the app accepted a context token (qsh "context-qsh") on its enabled callback; lifecycle routes must require a request-bound qsh (CVE-2021-26074)',
    );
    expectRow(run, 'page generalPages/good-page', 200, 'ok');
    expectRow(run, 'page generalPages/missing-page', 404, 'FAIL: GET /broken/pages/missing answered 404 (no route for this URL); expected 200');
    expectRow(run, 'page generalPages/crashing-page', 500, 'FAIL: GET /broken/pages/crash answered 500 (the app failed; see its log); expected 200');
    expectRow(run, 'webhook jira:issue_created', 204, 'ok');
    expectRow(run, 'refused after uninstall: good-page', 200, 'FAIL: GET /broken/pages/good answered 200; expected a refusal (401) after the uninstall');
    expect(run.stdout).toContain('FAIL: 11 steps, 5 failed.');
  });

  it('fails cleanly when nothing answers at the descriptor URL, and on usage errors', async () => {
    const dead = await freePort();
    const run = await runCli(['simulate', '--descriptor', `http://127.0.0.1:${dead}/atlassian-connect.json`]);
    expect(run.code).toBe(1);
    expectRow(run, 'descriptor (GET)', '-', new RegExp(`^FAIL: could not fetch http://127\\.0\\.0\\.1:${dead}/atlassian-connect\\.json: .*ECONNREFUSED.*; is the app running\\?$`));
    const usage = await runCli(['simulate', '--product', 'bitbucket', '--descriptor', 'http://x/y']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('simulate: --product must be jira or confluence, not "bitbucket".');
  });
});
