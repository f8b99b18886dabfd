import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { queryStringHash } from 'atlassian-connect-nest';
import { createInstallKeyPair, InstallKeyServer, signConnectToken, type InstallKeyPair, type SignConnectTokenOptions } from 'atlassian-connect-nest/testing';
import { SignJWT, type JWTPayload } from 'jose';

// Runs the BUILT command line (`npm test` builds first; run `npm run build` before running this file alone).
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/connect/cli/main.js');

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `atlassian-connect-nest explain <args>` as a child process. */
function explain(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'explain', ...args], { cwd: ROOT, timeout: 20_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

const SECRET = 'e2e-shared-secret-4b1d0c9e-never-printed';
const JIRA = 'https://app.example.com/jira';
const PATH = '/jira/api/issue?id=10&expand=names';

const token = (options: Partial<SignConnectTokenOptions> = {}) =>
  signConnectToken({ clientKey: 'client-e2e', sharedSecret: SECRET, method: 'GET', url: PATH, appBaseUrl: JIRA, accountId: 'user-1', ...options });

describe('atlassian-connect-nest explain (built CLI)', () => {
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first.`);
  });

  describe('an HS256 request token', () => {
    it('exits 0 for a valid token, printing header, claims and every verdict but never the secret', async () => {
      const run = await explain([await token(), '--url', `https://app.example.com${PATH}`, '--base-url', JIRA, '--secret', SECRET]);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^ {2}header {5}\{"alg":"HS256","typ":"JWT"\}$/m);
      expect(run.stdout).toMatch(/^ {2}claims {5}\{"iss":"client-e2e",/m);
      expect(run.stdout).toMatch(/^ {2}OK {4}alg {8}HS256: /m);
      expect(run.stdout).toMatch(/^ {2}OK {4}iat {8}issued \d+ s ago /m);
      expect(run.stdout).toMatch(/^ {2}OK {4}exp {8}expires in (3 min|1\d\d s) /m);
      expect(run.stdout).toMatch(/^ {2}INFO {2}window {5}3 min \(iat to exp\)$/m);
      expect(run.stdout).toMatch(/^ {2}OK {4}signature {2}verified with the shared secret$/m);
      expect(run.stdout).toMatch(/^ {2}canonical {2}GET&\/api\/issue&expand=names&id=10$/m);
      expect(run.stdout).toMatch(/^ {2}OK {4}qsh {8}matches the request$/m);
      expect(run.stdout).toMatch(/^Result: VALID for this request$/m);
      expect(run.stdout + run.stderr).not.toContain(SECRET);
    });

    it('takes the Authorization header value and the secret from an environment variable', async () => {
      const run = await explain([`JWT ${await token()}`, '--url', PATH, '--base-url', JIRA, '--secret-env', 'E2E_SHARED_SECRET'], { E2E_SHARED_SECRET: SECRET });
      expect(run.code).toBe(0);
      expect(run.stdout + run.stderr).not.toContain(SECRET);
    });

    it('exits 1 with a wrong secret', async () => {
      const run = await explain([await token(), '--url', PATH, '--base-url', JIRA, '--secret', 'not-the-secret']);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^ {2}FAIL {2}signature {2}invalid: the signature does not verify with the given shared secret/m);
      expect(run.stdout).toMatch(/^Result: INVALID \(signature\)$/m);
      expect(run.stdout + run.stderr).not.toContain('not-the-secret');
    });

    it('exits 1 when no key is given: signature not checked', async () => {
      const run = await explain([await token(), '--url', PATH, '--base-url', JIRA]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^ {2}SKIP {2}signature {2}signature not checked/m);
      expect(run.stdout).toMatch(/^Result: NOT VERIFIED \(signature not checked\)$/m);
    });

    it('exits 1 without --url: qsh not checked', async () => {
      const run = await explain([await token(), '--secret', SECRET]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^ {2}SKIP {2}qsh {8}qsh not checked: no request URL given$/m);
      expect(run.stdout).toMatch(/^Result: NOT VERIFIED \(qsh not checked\)$/m);
    });

    it('exits 1 for an expired token and says how long ago', async () => {
      const run = await explain([await token({ issuedAtOffset: -360, expiresIn: -180 }), '--url', PATH, '--base-url', JIRA, '--secret', SECRET]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^ {2}FAIL {2}exp {8}expired 3 min ago \(/m);
      expect(run.stdout).toMatch(/^ {2}OK {4}iat {8}issued 6 min ago /m);
      expect(run.stdout).toMatch(/^Result: INVALID \(exp\)$/m);
    });

    it('exits 1 for a token issued in the future', async () => {
      const run = await explain([await token({ issuedAtOffset: 600, expiresIn: 780 }), '--url', PATH, '--base-url', JIRA, '--secret', SECRET]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^ {2}FAIL {2}iat {8}issued in 10 min /m);
    });

    it('names the proxy re-encoding that breaks the qsh, with the Apache hint', async () => {
      const signed = await token({ url: '/jira/pages/a%20b' });
      const run = await explain([signed, '--url', '/jira/pages/a+b', '--base-url', JIRA, '--secret', SECRET]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^ {2}canonical {2}GET&\/pages\/a\+b&$/m);
      expect(run.stdout).toMatch(/^ {2}FAIL {2}qsh {8}mismatch: the product signed `%20` in the path where the app saw `\+`$/m);
      expect(run.stdout).toMatch(/^ +signed {5}GET&\/pages\/a%20b&$/m);
      expect(run.stdout).toMatch(/^ +hint {7}the proxy re-encodes the path: Apache needs `nocanon` on ProxyPass \(or `AllowEncodedSlashes NoDecode`\)$/m);
      expect(run.stdout).toMatch(/^Result: INVALID \(qsh\)$/m);
    });

    it('names a baseUrl path prefix mismatch', async () => {
      const run = await explain([await token(), '--url', PATH, '--base-url', 'https://app.example.com', '--secret', SECRET]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^ +hint {7}baseUrl path prefix mismatch: the app's baseUrl must be https:\/\/app\.example\.com\/jira$/m);
    });

    it('treats a context token as valid only where the route opts in', async () => {
      const context = await token({ qsh: 'context' });
      const refused = await explain([context, '--url', PATH, '--base-url', JIRA, '--secret', SECRET]);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toMatch(/^ {2}FAIL {2}qsh {8}context token: valid only on routes that opt in/m);
      const allowed = await explain([context, '--url', PATH, '--base-url', JIRA, '--secret', SECRET, '--allow-context']);
      expect(allowed.code).toBe(0);
      expect(allowed.stdout).toMatch(/^ {2}OK {4}qsh {8}context token \(qsh "context-qsh"\): accepted, the route opts in$/m);
    });

    it('exits 1 for a token that cannot be decoded', async () => {
      const run = await explain(['abc.def.ghi', '--secret', SECRET]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^ {2}FAIL {2}token {6}The JWT could not be decoded\.$/m);
    });

    it('flags alg none', async () => {
      const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const unsigned = `${encode({ alg: 'none' })}.${encode({ iss: 'client-e2e', exp: Math.floor(Date.now() / 1000) + 60, qsh: queryStringHash('GET', PATH, JIRA) })}.`;
      const run = await explain([unsigned, '--url', PATH, '--base-url', JIRA, '--secret', SECRET]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^ {2}FAIL {2}alg {8}"none": an unsigned token, never accepted$/m);
    });
  });

  describe('an RS256 signed-install token', () => {
    let keys: InstallKeyServer;
    let pair: InstallKeyPair;
    let stranger: InstallKeyPair;
    let dir: string;
    const install = async (signer: InstallKeyPair, kid: string = signer.kid, claims: JWTPayload = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: 'client-e2e', aud: JIRA, qsh: queryStringHash('POST', '/jira/installed', JIRA), iat: now, exp: now + 180, ...claims })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
        .sign(signer.privateKey);
    };
    const request = ['--method', 'POST', '--url', '/jira/installed', '--base-url', JIRA];

    beforeAll(async () => {
      [pair, stranger] = await Promise.all([createInstallKeyPair(), createInstallKeyPair()]);
      keys = await InstallKeyServer.start();
      keys.add(pair);
      dir = await mkdtemp(join(tmpdir(), 'cli-explain-'));
    });
    afterAll(async () => {
      await keys?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });
    beforeEach(() => {
      keys.resetRequests();
    });

    it('exits 0 when verified with the key fetched by kid', async () => {
      const run = await explain([await install(pair), ...request, '--install-keys-url', keys.url]);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^ {2}OK {4}alg {8}RS256 with kid ${pair.kid}: a signed install`, 'm'));
      expect(run.stdout).toContain(`  OK    signature  verified with key ${pair.kid} from ${keys.url}\n`);
      expect(run.stdout).toMatch(/^ {2}OK {4}aud {8}"https:\/\/app\.example\.com\/jira" names the app's baseUrl$/m);
      expect(run.stdout).toMatch(/^ {2}OK {4}route {6}\/installed: a lifecycle callback, which takes RS256 tokens$/m);
      expect(keys.requests(pair.kid)).toBe(1);
    });

    it('exits 0 when verified with a public key file', async () => {
      const file = join(dir, 'key.pem');
      await writeFile(file, pair.publicKeyPem);
      const run = await explain([await install(pair), ...request, '--public-key', file]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`  OK    signature  verified with the public key ${file}\n`);
    });

    it('exits 1 when the token was signed by another key', async () => {
      const file = join(dir, 'key.pem');
      await writeFile(file, pair.publicKeyPem);
      const run = await explain([await install(stranger, pair.kid), ...request, '--public-key', file]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^ {2}FAIL {2}signature {2}invalid: the signature does not verify with the public key /m);
    });

    it('exits 1 when the key host does not know the kid', async () => {
      const run = await explain([await install(stranger), ...request, '--install-keys-url', keys.url]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^ {2}FAIL {2}signature {2}no key: .*does not know key/m);
    });

    it('flags an unsafe kid and fetches nothing', async () => {
      const run = await explain([await install(pair, '../../evil'), ...request, '--install-keys-url', keys.url]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^ {2}FAIL {2}alg {8}RS256 with an unsafe kid "\.\.\/\.\.\/evil"/m);
      expect(keys.requests()).toBe(0);
    });

    it('exits 1 for an install signed for another app (aud)', async () => {
      const run = await explain([await install(pair, pair.kid, { aud: 'https://other.example.com' }), ...request, '--install-keys-url', keys.url]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^ {2}FAIL {2}aud {8}"https:\/\/other\.example\.com" is not the app's baseUrl/m);
    });
  });

  describe('usage errors exit 2', () => {
    it.each([
      ['no token', []],
      ['an unknown option', ['a.b.c', '--nope']],
      ['two keys', ['a.b.c', '--secret', SECRET, '--public-key', '/nonexistent.pem']],
      ['--method without --url', ['a.b.c', '--method', 'POST']],
      ['a relative --url', ['a.b.c', '--url', 'jira/issue']],
      ['a bad --base-url', ['a.b.c', '--base-url', 'app.example.com']],
      ['a missing key file', ['a.b.c', '--public-key', '/nonexistent/key.pem']],
      ['an unset --secret-env', ['a.b.c', '--secret-env', 'E2E_SURELY_UNSET_VARIABLE']],
      ['a bad --install-keys-url', ['a.b.c', '--install-keys-url', 'ftp://keys.example.com']],
    ])('%s', async (_label, args) => {
      const run = await explain(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^explain: /m);
      expect(run.stdout).toBe('');
      expect(run.stderr).not.toContain(SECRET);
    });

    it('--help prints the options and the exit codes, and exits 0', async () => {
      const run = await explain(['--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Exit status: 0 the token is valid for the request');
      expect(run.stdout).toContain('--install-keys-url <url>');
    });
  });
});
