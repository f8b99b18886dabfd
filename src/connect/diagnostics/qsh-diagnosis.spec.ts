import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import { queryStringHash } from '../auth/jwt/canonical-request.js';
import { signConnectToken } from '../testing/sign-connect-token.js';
import { diagnoseQsh, PROXY_REENCODES_PATH_HINT } from './qsh-diagnosis.js';

const APP = 'https://app.example.com';
const JIRA = `${APP}/jira`;
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The qsh of a token the product signed for `method url` against an app at `appBaseUrl`. */
async function signedQsh(url: string, appBaseUrl: string | undefined = JIRA, method = 'GET'): Promise<string> {
  const token = await signConnectToken({ clientKey: 'client-1', sharedSecret: 'not-a-real-secret', method, url, ...(appBaseUrl !== undefined && { appBaseUrl }) });
  return decodeJwt(token).qsh as string;
}

/** A token whose qsh a signer computed over this literal canonical request (a non-conforming signer). */
async function qshOver(canonical: string): Promise<string> {
  const token = await signConnectToken({ clientKey: 'client-1', sharedSecret: 'not-a-real-secret', qsh: sha256(canonical) });
  return decodeJwt(token).qsh as string;
}

describe('diagnoseQsh', () => {
  describe('when the token matches', () => {
    it('reports the canonical request and its hash', async () => {
      const qsh = await signedQsh('/jira/issue?a=1');
      const diagnosis = diagnoseQsh('GET', '/jira/issue?a=1', JIRA, qsh);
      expect(diagnosis).toEqual({ canonical: 'GET&/issue&a=1', qsh, matches: true, contextToken: false });
    });

    it('does not call reordered query parameters a mismatch', async () => {
      const qsh = await signedQsh('/jira/issue?b=2&a=1&c=3');
      const diagnosis = diagnoseQsh('GET', '/jira/issue?c=3&a=1&b=2', JIRA, qsh);
      expect(diagnosis.matches).toBe(true);
      expect(diagnosis.variant).toBeUndefined();
    });

    it('treats + and %20 in the query alike, and ignores the jwt parameter', async () => {
      const qsh = await signedQsh('/jira/search?q=a%20b');
      expect(diagnoseQsh('GET', '/jira/search?q=a+b&jwt=x.y.z', JIRA, qsh).matches).toBe(true);
    });

    it('accepts an absolute URL, a lower-case method and a single trailing slash', async () => {
      const qsh = await signedQsh('/jira/issue', JIRA, 'POST');
      expect(diagnoseQsh('post', `${JIRA}/issue/`, JIRA, qsh).matches).toBe(true);
    });

    it('matches when a proxy stripped the context path (it is only removed when present)', async () => {
      const qsh = await signedQsh('/jira/issue');
      expect(diagnoseQsh('GET', '/issue', JIRA, qsh).matches).toBe(true);
    });
  });

  describe('a path the proxy re-encoded', () => {
    it('finds %20 that arrived as +', async () => {
      const qsh = await signedQsh('/jira/a%20b');
      const diagnosis = diagnoseQsh('GET', '/jira/a+b', JIRA, qsh);
      expect(diagnosis.matches).toBe(false);
      expect(diagnosis.canonical).toBe('GET&/a+b&');
      expect(diagnosis.variant).toEqual({
        description: 'the product signed `%20` in the path where the app saw `+`',
        hint: PROXY_REENCODES_PATH_HINT,
        canonical: 'GET&/a%20b&',
      });
      expect(diagnosis.variant!.hint).toContain('nocanon');
    });

    it('finds %20 that was encoded again as %2520', async () => {
      const qsh = await signedQsh('/jira/a%20b');
      const diagnosis = diagnoseQsh('GET', '/jira/a%2520b', JIRA, qsh);
      expect(diagnosis.variant?.canonical).toBe('GET&/a%20b&');
      expect(diagnosis.variant?.description).toContain('a second time');
      expect(diagnosis.variant?.hint).toBe(PROXY_REENCODES_PATH_HINT);
    });

    it('finds %2F that was decoded to /', async () => {
      const qsh = await signedQsh('/jira/pages/a%2Fb/view');
      const diagnosis = diagnoseQsh('GET', '/jira/pages/a/b/view', JIRA, qsh);
      expect(diagnosis.variant?.canonical).toBe('GET&/pages/a%2Fb/view&');
      expect(diagnosis.variant?.description).toContain('%2F');
      expect(diagnosis.variant?.hint).toContain('AllowEncodedSlashes NoDecode');
      expect(diagnosis.variant?.hint).toContain('nocanon');
    });

    it('needs no variant for characters that arrived decoded: the canonical path encodes them as the product did', async () => {
      const qsh = await signedQsh('/jira/a%20b%C3%A4');
      const diagnosis = diagnoseQsh('GET', '/jira/a bä', JIRA, qsh);
      expect(diagnosis.canonical).toBe('GET&/a%20b%C3%A4&');
      expect(diagnosis.matches).toBe(true);
      expect(diagnosis.variant).toBeUndefined();
    });

    it('finds escapes whose hex digits changed case', async () => {
      const qsh = await signedQsh('/jira/%C3%A4');
      const diagnosis = diagnoseQsh('GET', '/jira/%c3%a4', JIRA, qsh);
      expect(diagnosis.variant?.canonical).toBe('GET&/%C3%A4&');
      expect(diagnosis.variant?.description).toContain('case');
    });

    it('finds an unreserved character that arrived escaped', async () => {
      const qsh = await signedQsh('/jira/~user');
      expect(diagnoseQsh('GET', '/jira/%7Euser', JIRA, qsh).variant?.canonical).toBe('GET&/~user&');
    });
  });

  describe('a baseUrl path prefix mismatch', () => {
    it("finds a context path missing from the app's baseUrl", async () => {
      const qsh = await signedQsh('/jira/issue', JIRA);
      const diagnosis = diagnoseQsh('GET', '/jira/issue', APP, qsh);
      expect(diagnosis.canonical).toBe('GET&/jira/issue&');
      expect(diagnosis.variant?.canonical).toBe('GET&/issue&');
      expect(diagnosis.variant?.hint).toBe(`baseUrl path prefix mismatch: the app's baseUrl must be ${JIRA}`);
    });

    it('finds it without any baseUrl, taking the origin from the URL', async () => {
      const qsh = await signedQsh('/jira/issue', JIRA);
      const diagnosis = diagnoseQsh('GET', `${APP}/jira/issue`, undefined, qsh);
      expect(diagnosis.variant?.hint).toBe(`baseUrl path prefix mismatch: the app's baseUrl must be ${JIRA}`);
      expect(diagnosis.variant?.description).toContain('was not given');
    });

    it('finds a doubled context path', async () => {
      const qsh = await signedQsh('/jira/issue', JIRA);
      const diagnosis = diagnoseQsh('GET', '/jira/jira/issue', JIRA, qsh);
      expect(diagnosis.canonical).toBe('GET&/jira/issue&');
      expect(diagnosis.variant?.canonical).toBe('GET&/issue&');
      expect(diagnosis.variant?.description).toContain('twice');
      expect(diagnosis.variant?.hint).toMatch(/^baseUrl path prefix mismatch: the app's baseUrl must be https:\/\/app\.example\.com\/jira\b/);
    });

    it('finds a doubled prefix when no baseUrl was given', async () => {
      const qsh = await signedQsh('/jira/issue', JIRA);
      const diagnosis = diagnoseQsh('GET', '/jira/jira/issue', undefined, qsh);
      expect(diagnosis.variant?.description).toContain('twice');
    });

    it('finds a context path the product did not strip', async () => {
      const qsh = await signedQsh('/jira/issue', APP);
      const diagnosis = diagnoseQsh('GET', '/jira/issue', JIRA, qsh);
      expect(diagnosis.variant?.canonical).toBe('GET&/jira/issue&');
      expect(diagnosis.variant?.hint).toBe(`baseUrl path prefix mismatch: the app's baseUrl must be ${APP}`);
    });
  });

  describe("the Confluence site's /wiki", () => {
    const SITE = 'https://example.atlassian.net/wiki';

    it('finds /wiki included in the hash', async () => {
      const qsh = await qshOver('GET&/wiki/rest/api/content&limit=1');
      const diagnosis = diagnoseQsh('GET', `${SITE}/rest/api/content?limit=1`, SITE, qsh);
      expect(diagnosis.variant?.canonical).toBe('GET&/wiki/rest/api/content&limit=1');
      expect(diagnosis.variant?.description).toContain('includes `/wiki`');
    });

    it("finds /wiki left out when the site's baseUrl was not given", async () => {
      const qsh = await signedQsh('/wiki/rest/api/content', SITE);
      const diagnosis = diagnoseQsh('GET', `${SITE}/rest/api/content`, undefined, qsh);
      expect(diagnosis.variant?.canonical).toBe('GET&/rest/api/content&');
      expect(diagnosis.variant?.description).toContain('leaves out `/wiki`');
    });
  });

  describe('a trailing slash', () => {
    it('finds one removed on the way', async () => {
      const qsh = await signedQsh('/jira/issue//');
      const diagnosis = diagnoseQsh('GET', '/jira/issue/', JIRA, qsh);
      expect(diagnosis.variant?.canonical).toBe('GET&/issue/&');
      expect(diagnosis.variant?.description).toContain('removed on the way');
      expect(diagnosis.variant?.hint).toContain('trailing slash was added or removed');
    });

    it('finds one added on the way', async () => {
      const qsh = await signedQsh('/jira/issue/');
      const diagnosis = diagnoseQsh('GET', '/jira/issue//', JIRA, qsh);
      expect(diagnosis.variant?.canonical).toBe('GET&/issue&');
      expect(diagnosis.variant?.description).toContain('trailing slash was added');
    });

    it('finds a signer that keeps the trailing slash', async () => {
      const qsh = await qshOver('GET&/issue/&');
      const diagnosis = diagnoseQsh('GET', '/jira/issue/', JIRA, qsh);
      expect(diagnosis.canonical).toBe('GET&/issue&');
      expect(diagnosis.variant?.canonical).toBe('GET&/issue/&');
      expect(diagnosis.variant?.description).toBe(
        "the token's qsh covers the path with a trailing slash (`/issue/`): the signer keeps the slash that Connect drops, or one was removed on the way",
      );
    });
  });

  describe('the query string', () => {
    it('finds the jwt parameter left in the hash', async () => {
      const qsh = await qshOver('GET&/issue&a=1&jwt=abc.def.ghi&z=2');
      const diagnosis = diagnoseQsh('GET', '/jira/issue?z=2&jwt=abc.def.ghi&a=1', JIRA, qsh);
      expect(diagnosis.canonical).toBe('GET&/issue&a=1&z=2');
      expect(diagnosis.variant?.canonical).toBe('GET&/issue&a=1&jwt=abc.def.ghi&z=2');
      expect(diagnosis.variant?.description).toContain('`jwt` query parameter');
    });

    it('finds a literal plus (%2B) that arrived as +', async () => {
      const qsh = await signedQsh('/jira/search?q=a%2Bb');
      const diagnosis = diagnoseQsh('GET', '/jira/search?q=a+b', JIRA, qsh);
      expect(diagnosis.variant?.canonical).toBe('GET&/search&q=a%2Bb');
      expect(diagnosis.variant?.hint).toContain('query string was decoded or re-encoded');
    });

    it('finds a %26 that arrived decoded as &', async () => {
      const qsh = await signedQsh('/jira/search?q=a%26b&x=1');
      const diagnosis = diagnoseQsh('GET', '/jira/search?q=a&b&x=1', JIRA, qsh);
      expect(diagnosis.variant?.canonical).toBe('GET&/search&q=a%26b&x=1');
    });

    it('finds a parameter added on the way', async () => {
      const qsh = await signedQsh('/jira/page?a=1');
      const diagnosis = diagnoseQsh('GET', '/jira/page?a=1&utm_source=mail', JIRA, qsh);
      expect(diagnosis.variant?.description).toBe('the product did not sign the query parameter `utm_source`; the app saw it');
    });
  });

  describe('the method', () => {
    it('finds another method', async () => {
      const qsh = await signedQsh('/jira/installed', JIRA, 'POST');
      const diagnosis = diagnoseQsh('GET', '/jira/installed', JIRA, qsh);
      expect(diagnosis.variant?.canonical).toBe('POST&/installed&');
      expect(diagnosis.variant?.description).toBe('the token was signed for a POST request, not GET');
    });

    it('finds a signer that did not upper-case the method', async () => {
      const qsh = await qshOver('get&/issue&');
      const diagnosis = diagnoseQsh('GET', '/jira/issue', JIRA, qsh);
      expect(diagnosis.variant?.canonical).toBe('get&/issue&');
      expect(diagnosis.variant?.hint).toContain('upper-case');
    });
  });

  it('says context-qsh is a context token and searches no variant', () => {
    const diagnosis = diagnoseQsh('GET', '/jira/panel', JIRA, 'context-qsh');
    expect(diagnosis).toEqual({ canonical: 'GET&/panel&', qsh: queryStringHash('GET', '/jira/panel', JIRA), matches: false, contextToken: true });
  });

  it('returns no variant when nothing explains the mismatch', async () => {
    const qsh = await signedQsh('/jira/other?x=1');
    const diagnosis = diagnoseQsh('GET', '/jira/issue?a=1', JIRA, qsh);
    expect(diagnosis.matches).toBe(false);
    expect(diagnosis.variant).toBeUndefined();
    expect(diagnosis.canonical).toBe('GET&/issue&a=1');
  });

  it("never reports the app's own canonical request as a variant", () => {
    const own = queryStringHash('GET', '/jira/a+b', JIRA);
    expect(diagnoseQsh('GET', '/jira/a+b', JIRA, own).variant).toBeUndefined();
    expect(diagnoseQsh('GET', '/jira/a+b', JIRA, sha256('nothing')).variant).toBeUndefined();
  });

  it('copes with malformed escapes and long paths without throwing', () => {
    expect(() => diagnoseQsh('GET', '/jira/%zz/%E0%A4/' + 'a/'.repeat(200) + '?q=%&r=%2', JIRA, sha256('x'))).not.toThrow();
  });
});
