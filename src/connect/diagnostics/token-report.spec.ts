import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, SignJWT, type JWTPayload } from 'jose';
import { queryStringHash } from '../auth/jwt/canonical-request.js';
import { ConnectError } from '../errors/connect-error.js';
import type { InstallKeyResolver } from '../keys/install-key-resolver.js';
import { createInstallKeyPair, type InstallKeyPair } from '../testing/install-key-pair.js';
import { signConnectToken, type SignConnectTokenOptions } from '../testing/sign-connect-token.js';
import { buildTokenReport, duration, importPublicKeyPem, timeFindings, type TokenReport, type VerificationKey } from './token-report.js';

const SECRET = 'tenant-shared-secret-do-not-print-7f3a9c';
const JIRA = 'https://app.example.com/jira';
const URL_SEEN = '/jira/api/issue?id=10';

const hsToken = (options: Partial<SignConnectTokenOptions> = {}) =>
  signConnectToken({ clientKey: 'client-1', sharedSecret: SECRET, method: 'GET', url: URL_SEEN, appBaseUrl: JIRA, accountId: 'user-1', ...options });
const secret = (value = SECRET): VerificationKey => ({ type: 'secret', secret: value });
const request = { method: 'GET', url: URL_SEEN };
const finding = (report: TokenReport, claim: 'iat' | 'nbf' | 'exp') => report.times.find((t) => t.claim === claim);

async function installToken(pair: InstallKeyPair, claims: JWTPayload = {}, kid: string = pair.kid): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: 'client-1', aud: JIRA, qsh: queryStringHash('POST', '/jira/installed', JIRA), iat: now, exp: now + 180, ...claims })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
    .sign(pair.privateKey);
}

/** A resolver that serves `pair` for its kid and counts lookups. */
function resolverFor(pair: InstallKeyPair | Error): InstallKeyResolver & { calls: number } {
  return {
    calls: 0,
    async resolve(kid: string) {
      this.calls++;
      if (pair instanceof Error) throw pair;
      if (kid !== pair.kid) throw ConnectError.create('jwt/invalid-kid', `The install key host does not know key ${kid} (HTTP 404).`);
      return pair.publicKey;
    },
  };
}

describe('buildTokenReport', () => {
  describe('an HS256 request token', () => {
    it('is valid with the right secret, valid times and a matching qsh', async () => {
      const report = await buildTokenReport({ token: await hsToken(), key: secret(), request, baseUrl: JIRA });
      expect(report.kind).toBe('request');
      expect(report.alg.verdict).toBe('ok');
      expect(report.signature).toEqual({ verdict: 'ok', message: 'verified with the shared secret' });
      expect(report.qsh.verdict).toBe('ok');
      expect(report.qsh.diagnosis?.canonical).toBe('GET&/api/issue&id=10');
      expect(report.iss.message).toBe("client-1 (the tenant's clientKey), user user-1");
      expect(report.valid).toBe(true);
    });

    it('fails the signature with a wrong secret', async () => {
      const report = await buildTokenReport({ token: await hsToken(), key: secret('another-secret'), request, baseUrl: JIRA });
      expect(report.signature.verdict).toBe('fail');
      expect(report.signature.message).toContain('does not verify with the given shared secret');
      expect(report.valid).toBe(false);
    });

    it('fails the signature of an altered token', async () => {
      const token = await hsToken();
      const [header, , signature] = token.split('.');
      const forged = `${header}.${Buffer.from(JSON.stringify({ iss: 'client-2', exp: 9999999999, qsh: 'x' })).toString('base64url')}.${signature}`;
      const report = await buildTokenReport({ token: forged, key: secret() });
      expect(report.signature.verdict).toBe('fail');
    });

    it('is not verified without a key: signature not checked', async () => {
      const report = await buildTokenReport({ token: await hsToken(), request, baseUrl: JIRA });
      expect(report.signature).toEqual({ verdict: 'skip', message: 'signature not checked: no shared secret or public key given' });
      expect(report.qsh.verdict).toBe('ok');
      expect(report.valid).toBe(false);
    });

    it('is not verified without a request', async () => {
      const report = await buildTokenReport({ token: await hsToken(), key: secret() });
      expect(report.signature.verdict).toBe('ok');
      expect(report.qsh).toEqual({ verdict: 'skip', message: 'qsh not checked: no request URL given' });
      expect(report.route).toBeUndefined();
      expect(report.valid).toBe(false);
    });

    it('does not verify an HS256 token with a public key', async () => {
      const pair = await createInstallKeyPair();
      const report = await buildTokenReport({ token: await hsToken(), key: { type: 'public-key', key: pair.publicKey, source: 'key.pem' } });
      expect(report.signature.verdict).toBe('skip');
      expect(report.signature.message).toContain('shared secret');
    });

    it('never puts the shared secret into the report', async () => {
      for (const key of [secret(), secret('wrong-secret-value-123')]) {
        const report = await buildTokenReport({ token: await hsToken(), key, request, baseUrl: JIRA });
        expect(JSON.stringify(report)).not.toContain(SECRET);
        expect(JSON.stringify(report)).not.toContain('wrong-secret-value-123');
      }
    });

    it('explains a qsh mismatch', async () => {
      const token = await hsToken({ url: '/jira/a%20b' });
      const report = await buildTokenReport({ token, key: secret(), request: { method: 'GET', url: '/jira/a+b' }, baseUrl: JIRA });
      expect(report.qsh.verdict).toBe('fail');
      expect(report.qsh.message).toBe('mismatch: the product signed `%20` in the path where the app saw `+`');
      expect(report.qsh.diagnosis?.variant?.hint).toContain('nocanon');
      expect(report.valid).toBe(false);
    });

    it('refuses a context token unless the route opts in', async () => {
      const token = await hsToken({ qsh: 'context' });
      const refused = await buildTokenReport({ token, key: secret(), request, baseUrl: JIRA });
      expect(refused.qsh.verdict).toBe('fail');
      expect(refused.qsh.message).toContain('valid only on routes that opt in');
      expect(refused.valid).toBe(false);
      const allowed = await buildTokenReport({ token, key: secret(), request: { ...request, allowContextQsh: true }, baseUrl: JIRA });
      expect(allowed.qsh.verdict).toBe('ok');
      expect(allowed.valid).toBe(true);
    });

    it('fails a token without qsh', async () => {
      const token = await signConnectToken({ clientKey: 'client-1', sharedSecret: SECRET });
      const report = await buildTokenReport({ token, key: secret(), request, baseUrl: JIRA });
      expect(report.qsh.verdict).toBe('fail');
      expect(report.qsh.message).toContain('no query string hash');
    });

    it('refuses HS256 on the signed-install callbacks', async () => {
      const token = await hsToken({ method: 'POST', url: '/jira/installed' });
      const report = await buildTokenReport({ token, key: secret(), request: { method: 'POST', url: '/jira/installed' }, baseUrl: JIRA });
      expect(report.qsh.verdict).toBe('ok');
      expect(report.route?.verdict).toBe('fail');
      expect(report.route?.message).toContain('RS256');
      expect(report.valid).toBe(false);
    });

    it('accepts HS256 on enabled', async () => {
      const token = await hsToken({ method: 'POST', url: '/jira/enabled' });
      const report = await buildTokenReport({ token, key: secret(), request: { method: 'POST', url: '/jira/enabled' }, baseUrl: JIRA });
      expect(report.route?.verdict).toBe('ok');
      expect(report.valid).toBe(true);
    });
  });

  describe('times', () => {
    it('reports an expired token', async () => {
      const report = await buildTokenReport({ token: await hsToken({ expiresIn: -180 }), key: secret(), request, baseUrl: JIRA });
      expect(finding(report, 'exp')?.verdict).toBe('fail');
      expect(finding(report, 'exp')?.message).toMatch(/^expired 3 min ago \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$/);
      expect(report.signature.verdict).toBe('ok');
      expect(report.valid).toBe(false);
    });

    it('tolerates a token expired within the leeway, with a warning', async () => {
      const token = await hsToken({ issuedAtOffset: -185, expiresIn: -5 });
      const report = await buildTokenReport({ token, key: secret(), request, baseUrl: JIRA, leewaySeconds: 30 });
      expect(finding(report, 'exp')?.verdict).toBe('warn');
      expect(report.valid).toBe(true);
      const strict = await buildTokenReport({ token, key: secret(), request, baseUrl: JIRA, leewaySeconds: 0 });
      expect(finding(strict, 'exp')?.verdict).toBe('fail');
    });

    it('reports a token issued in the future', async () => {
      const token = await hsToken({ issuedAtOffset: 90, expiresIn: 300 });
      const now = (decodeJwt(token).iat as number) - 90;
      const report = await buildTokenReport({ token, key: secret(), request, baseUrl: JIRA, now });
      expect(finding(report, 'iat')?.verdict).toBe('fail');
      expect(finding(report, 'iat')?.message).toMatch(/^issued in 90 s \(.*\): in the future beyond the 30 s leeway/);
      expect(report.valid).toBe(false);
    });

    it('warns about an iat slightly in the future', async () => {
      const token = await hsToken({ issuedAtOffset: 2 });
      const now = (decodeJwt(token).iat as number) - 2;
      const report = await buildTokenReport({ token, key: secret(), request, baseUrl: JIRA, now });
      expect(finding(report, 'iat')?.verdict).toBe('warn');
      expect(finding(report, 'iat')?.message).toMatch(/^issued in 2 s /);
      expect(report.valid).toBe(true);
    });

    it('judges exp, iat and nbf against a given clock', () => {
      const { times, window } = timeFindings({ iat: 1000, nbf: 1100, exp: 1180 }, 1050, 30);
      expect(times.map((t) => [t.claim, t.verdict])).toEqual([
        ['iat', 'ok'],
        ['nbf', 'fail'],
        ['exp', 'ok'],
      ]);
      expect(times[1]!.message).toContain('in 50 s');
      expect(window).toEqual({ verdict: 'info', message: '80 s (nbf to exp)' });
    });

    it('fails a missing exp and an empty window, warns about a very long one', () => {
      expect(timeFindings({ iat: 1000 }, 1000, 30).times).toEqual([
        { claim: 'iat', value: 1000, verdict: 'ok', message: 'issued 0 s ago (1970-01-01T00:16:40Z)' },
        { claim: 'exp', verdict: 'fail', message: 'no expiry (exp): Connect tokens must expire' },
      ]);
      expect(timeFindings({ iat: 1000, exp: 900 }, 800, 30).window?.verdict).toBe('fail');
      expect(timeFindings({ iat: 1000, exp: 1000 + 86400 }, 1000, 30).window?.verdict).toBe('warn');
    });
  });

  describe('an RS256 signed-install token', () => {
    let pair: InstallKeyPair;
    let other: InstallKeyPair;
    let dir: string;
    beforeAll(async () => {
      [pair, other] = await Promise.all([createInstallKeyPair(), createInstallKeyPair()]);
      dir = await mkdtemp(join(tmpdir(), 'token-report-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });
    const installRequest = { method: 'POST', url: '/jira/installed' };

    it('is verified with a public key read from a PEM file', async () => {
      const file = join(dir, 'install-key.pem');
      await writeFile(file, pair.publicKeyPem);
      const key = await importPublicKeyPem(await readFile(file, 'utf8'));
      const report = await buildTokenReport({ token: await installToken(pair), key: { type: 'public-key', key, source: file }, request: installRequest, baseUrl: JIRA });
      expect(report.kind).toBe('install');
      expect(report.alg.message).toContain(`kid ${pair.kid}`);
      expect(report.signature).toEqual({ verdict: 'ok', message: `verified with the public key ${file}` });
      expect(report.audience?.verdict).toBe('ok');
      expect(report.route?.verdict).toBe('ok');
      expect(report.valid).toBe(true);
    });

    it('fails with another public key', async () => {
      const report = await buildTokenReport({
        token: await installToken(pair),
        key: { type: 'public-key', key: other.publicKey, source: 'other.pem' },
        request: installRequest,
        baseUrl: JIRA,
      });
      expect(report.signature.verdict).toBe('fail');
      expect(report.valid).toBe(false);
    });

    it('is verified with a key looked up by kid', async () => {
      const resolver = resolverFor(pair);
      const report = await buildTokenReport({
        token: await installToken(pair),
        key: { type: 'install-keys', resolver, source: 'http://keys.test' },
        request: installRequest,
        baseUrl: JIRA,
      });
      expect(report.signature).toEqual({ verdict: 'ok', message: `verified with key ${pair.kid} from http://keys.test` });
      expect(resolver.calls).toBe(1);
      expect(report.valid).toBe(true);
    });

    it('fails when the key host does not know the kid, and is not verified when it is down', async () => {
      const unknown = await buildTokenReport({ token: await installToken(other), key: { type: 'install-keys', resolver: resolverFor(pair), source: 'k' } });
      expect(unknown.signature.verdict).toBe('fail');
      expect(unknown.signature.message).toContain('does not know key');
      const down = ConnectError.create('jwt/key-unavailable', 'The install key host http://keys.test could not be reached.');
      const unreachable = await buildTokenReport({ token: await installToken(pair), key: { type: 'install-keys', resolver: resolverFor(down), source: 'k' } });
      expect(unreachable.signature).toEqual({ verdict: 'skip', message: 'signature not checked: The install key host http://keys.test could not be reached.' });
    });

    it('flags an unsafe kid and fetches nothing', async () => {
      const resolver = resolverFor(pair);
      const token = await installToken(pair, {}, '../../evil.example/key');
      const report = await buildTokenReport({ token, key: { type: 'install-keys', resolver, source: 'k' }, request: installRequest, baseUrl: JIRA });
      expect(report.alg.verdict).toBe('fail');
      expect(report.alg.message).toContain('unsafe kid');
      expect(report.signature.verdict).toBe('skip');
      expect(resolver.calls).toBe(0);
      expect(report.valid).toBe(false);
    });

    it('flags a missing kid', async () => {
      const token = await new SignJWT({ iss: 'c', exp: Math.floor(Date.now() / 1000) + 60 }).setProtectedHeader({ alg: 'RS256' }).sign(pair.privateKey);
      const report = await buildTokenReport({ token });
      expect(report.alg).toEqual({ verdict: 'fail', message: 'RS256 without a kid: the install key cannot be looked up, so the token is refused' });
    });

    it('checks aud against the app baseUrl, and says so when none is given', async () => {
      const key: VerificationKey = { type: 'public-key', key: pair.publicKey, source: 'k' };
      const elsewhere = await buildTokenReport({ token: await installToken(pair, { aud: 'https://other.example.com' }), key, request: installRequest, baseUrl: JIRA });
      expect(elsewhere.audience?.verdict).toBe('fail');
      expect(elsewhere.valid).toBe(false);
      const trailing = await buildTokenReport({ token: await installToken(pair, { aud: [`${JIRA}/`] }), key, request: installRequest, baseUrl: JIRA });
      expect(trailing.audience?.verdict).toBe('ok');
      const unknown = await buildTokenReport({ token: await installToken(pair), key, request: installRequest });
      expect(unknown.audience?.verdict).toBe('skip');
      expect(unknown.valid).toBe(false);
    });

    it('never accepts a context token on a lifecycle route', async () => {
      const key: VerificationKey = { type: 'public-key', key: pair.publicKey, source: 'k' };
      const report = await buildTokenReport({ token: await installToken(pair, { qsh: 'context-qsh' }), key, request: { ...installRequest, allowContextQsh: true }, baseUrl: JIRA });
      expect(report.qsh.verdict).toBe('fail');
      expect(report.qsh.message).toContain('never accepted on lifecycle callbacks');
    });

    it('refuses RS256 on enabled', async () => {
      const token = await installToken(pair, { qsh: queryStringHash('POST', '/jira/enabled', JIRA) });
      const report = await buildTokenReport({
        token,
        key: { type: 'public-key', key: pair.publicKey, source: 'k' },
        request: { method: 'POST', url: '/jira/enabled' },
        baseUrl: JIRA,
      });
      expect(report.route?.verdict).toBe('fail');
      expect(report.valid).toBe(false);
    });

    it('rejects a PEM that is not a public key', async () => {
      await expect(importPublicKeyPem('hello')).rejects.toThrow('not a PEM public key');
      await expect(importPublicKeyPem('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----')).rejects.toThrow('usable RSA public key');
    });
  });

  describe('algorithms', () => {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = { iss: 'client-1', exp: Math.floor(Date.now() / 1000) + 60, qsh: 'x' };

    it('flags alg none as unsigned', async () => {
      const report = await buildTokenReport({ token: `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`, key: secret() });
      expect(report.alg).toEqual({ verdict: 'fail', message: '"none": an unsigned token, never accepted' });
      expect(report.signature.verdict).toBe('fail');
      expect(report.valid).toBe(false);
    });

    it('flags algorithms Connect does not use', async () => {
      const token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS512' }).sign(new TextEncoder().encode(SECRET));
      const report = await buildTokenReport({ token, key: secret() });
      expect(report.alg.verdict).toBe('fail');
      expect(report.alg.message).toContain('"HS512" is not used by Atlassian Connect');
    });

    it('throws jwt/malformed for something that is not a JWT', async () => {
      await expect(buildTokenReport({ token: 'not-a-token' })).rejects.toMatchObject({ code: 'jwt/malformed' });
    });
  });
});

describe('duration', () => {
  it.each([
    [0, '0 s'],
    [2, '2 s'],
    [-2, '2 s'],
    [119, '119 s'],
    [180, '3 min'],
    [181.4, '3 min'],
    [3569, '59 min'],
    [3599, '1 h'],
    [3600, '1 h'],
    [3900, '1 h 5 min'],
    [90000, '1 d 1 h'],
  ])('%p s is %p', (seconds, text) => {
    expect(duration(seconds)).toBe(text);
  });
});
