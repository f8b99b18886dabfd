import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConnectError } from '../../errors/connect-error.js';
import { MAX_CANONICAL_URL_LENGTH, canonicalRequest, queryStringHash } from './canonical-request.js';

interface VectorCase {
  name: string;
  method: string;
  url: string;
  baseUrl?: string;
  canonical: string;
}
interface SpecCase extends VectorCase {
  referenceCanonical: string;
  why: string;
}
interface InteropVector {
  name: string;
  canonicalUrl: string;
  signedUrl: string;
  addonBaseUrl?: string;
}

const load = <T>(file: string): T => JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')) as T;
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const canonical = (url: string, baseUrl?: string) => canonicalRequest('GET', url, baseUrl);
const query = (q: string) => canonical('/p?' + q).slice('GET&/p&'.length);

// An independent reading of the rules, built on the platform's decoders and encoder: WHATWG's
// percent-decode (bytes) read by a non-fatal TextDecoder (U+FFFD per maximal invalid subsequence, as
// Java's decoder), unless a % starts no escape at all.
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const reference = (raw: string): string => {
  const encode = (text: string) => encodeURIComponent(text.replace(loneSurrogate, '\ufffd')).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  if (/%(?![0-9A-Fa-f]{2})/.test(raw)) return encode(raw);
  const bytes = Buffer.from(raw.replaceAll('+', ' ').replace(loneSurrogate, '\ufffd'), 'utf8');
  const decoded: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x25) {
      decoded.push(parseInt(String.fromCharCode(bytes[i + 1]!, bytes[i + 2]!), 16));
      i += 2;
    } else decoded.push(bytes[i]!);
  }
  return encode(new TextDecoder().decode(Uint8Array.from(decoded)));
};

describe('qsh vectors', () => {
  const interop = load<{ tests: InteropVector[] }>('./atlassian-interop-vectors.json').tests;
  const generated = load<{ cases: (VectorCase & { qsh: string })[] }>('./qsh-vectors.json').cases;
  const spec = load<{ cases: SpecCase[] }>('./qsh-spec-vectors.json').cases;
  const parser = load<{ cases: (VectorCase & { why: string })[] }>('./qsh-parser-vectors.json').cases;

  it('has every file populated', () => {
    expect(interop).toHaveLength(79);
    expect(generated.length).toBeGreaterThan(50);
    expect(spec.length).toBeGreaterThan(10);
    expect(parser.length).toBeGreaterThan(15);
  });

  it.each(parser.map((c) => [c.name, c] as const))('as the host parsed the URL it signed: %s', (_, c) => {
    expect(canonicalRequest(c.method, c.url, c.baseUrl)).toBe(c.canonical);
    expect(queryStringHash(c.method, c.url, c.baseUrl)).toBe(sha256(c.canonical));
    expect(c.why).toBeTruthy();
  });

  // Called exactly as ../shared/bin/interop-qsh.mjs calls the built package.
  it.each(interop.map((t) => [t.name, t] as const))('Atlassian interop: %s', (_, t) => {
    const method = t.canonicalUrl.split('&')[0]!;
    const baseUrl = t.addonBaseUrl ? 'https://example.com' + t.addonBaseUrl : undefined;
    const token = new URL(t.signedUrl).searchParams.get('jwt')!;
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { qsh: string };
    expect(canonicalRequest(method, t.signedUrl, baseUrl)).toBe(t.canonicalUrl);
    expect(queryStringHash(method, t.signedUrl, baseUrl)).toBe(claims.qsh);
  });

  it.each(generated.map((c) => [c.name, c] as const))('agrees with atlassian-jwt: %s', (_, c) => {
    expect(canonicalRequest(c.method, c.url, c.baseUrl)).toBe(c.canonical);
    expect(queryStringHash(c.method, c.url, c.baseUrl)).toBe(c.qsh);
  });

  it.each(spec.map((c) => [c.name, c] as const))('follows the spec, not atlassian-jwt: %s', (_, c) => {
    expect(canonicalRequest(c.method, c.url, c.baseUrl)).toBe(c.canonical);
    expect(queryStringHash(c.method, c.url, c.baseUrl)).toBe(sha256(c.canonical));
    expect(c.referenceCanonical).not.toBe(c.canonical);
    expect(c.why).toBeTruthy();
  });
});

describe('canonicalRequest', () => {
  it('joins the upper-cased method, the URI and the query with &', () => {
    expect(canonicalRequest('post', '/a?b=c')).toBe('POST&/a&b=c');
    expect(canonicalRequest('Patch', '/a')).toBe('PATCH&/a&');
  });

  describe('URI', () => {
    const wiki = 'https://x.atlassian.net/wiki';

    it('strips the base URL path as whole segments only', () => {
      expect(canonical('/wiki/x', wiki)).toBe('GET&/x&');
      expect(canonical('/wiki', wiki)).toBe('GET&/&');
      expect(canonical('/wiki/', wiki)).toBe('GET&/&');
      expect(canonical('/wikipedia/x', wiki)).toBe('GET&/wikipedia/x&');
      expect(canonical('/x/wiki', wiki)).toBe('GET&/x/wiki&');
    });

    it('takes the context path from absolute or path-only base URLs, ignoring trailing slashes', () => {
      expect(canonical('/jira/api/x', 'https://app.example.com/jira')).toBe('GET&/api/x&');
      expect(canonical('/jira/api/x', 'https://app.example.com/jira//')).toBe('GET&/api/x&');
      expect(canonical('/jira/api/x', '/jira')).toBe('GET&/api/x&');
      expect(canonical('/jira/api/x', 'https://app.example.com')).toBe('GET&/jira/api/x&');
      expect(canonical('/jira/api/x', 'https://app.example.com/')).toBe('GET&/jira/api/x&');
      expect(canonical('/jira/api/x', '')).toBe('GET&/jira/api/x&');
    });

    it('uses the path of an absolute URL', () => {
      expect(canonical('https://x.atlassian.net/wiki/a/b?c=d', wiki)).toBe('GET&/a/b&c=d');
      expect(canonical('HTTP://host:8080?c=d')).toBe('GET&/&c=d');
      expect(canonical('http://host#frag')).toBe('GET&/&');
    });

    it('treats a string that only looks like it has a scheme as a path', () => {
      expect(canonical('/a?u=http://b/c')).toBe('GET&/a&u=http%3A%2F%2Fb%2Fc');
      expect(canonical('1http://b/c')).toBe('GET&/1http://b/c&');
      expect(canonical('a?b://c')).toBe('GET&/a&b%3A%2F%2Fc=');
    });

    it('keeps the raw path undecoded', () => {
      expect(canonical('/a%2Fb/%7e/%zz/a+b/%E9')).toBe('GET&/a%2Fb/%7e/%zz/a+b/%E9&');
    });

    it('reads a backslash as / and percent-encodes what cannot stand raw in a path', () => {
      expect(canonical('/a\\b')).toBe('GET&/a/b&');
      expect(canonical('/a b\tc\u0000d\u007f')).toBe('GET&/a%20b%09c%00d%7F&');
      expect(canonical('/\u00e9\u{1F600}\udc00')).toBe('GET&/%C3%A9%F0%9F%98%80%EF%BF%BD&');
      expect(canonical('/a"<>^`{|}[]')).toBe('GET&/a%22%3C%3E%5E%60%7B%7C%7D[]&');
      expect(canonical('/wiki\\x b', 'https://h.atlassian.net/wiki')).toBe('GET&/x%20b&');
      expect(canonical('/a\\')).toBe('GET&/a&');
    });

    it('encodes & in the path', () => {
      expect(canonical('/a&b&c?d=e')).toBe('GET&/a%26b%26c&d=e');
    });

    it('drops one trailing slash, keeps the root, and turns an empty path into /', () => {
      expect(canonical('/a/')).toBe('GET&/a&');
      expect(canonical('/a//')).toBe('GET&/a/&');
      expect(canonical('/')).toBe('GET&/&');
      expect(canonical('')).toBe('GET&/&');
      expect(canonical('?a=1')).toBe('GET&/&a=1');
      expect(canonical('a/b')).toBe('GET&/a/b&');
    });
  });

  describe('query', () => {
    it('is empty when there is nothing but the jwt parameter', () => {
      expect(query('')).toBe('');
      expect(query('jwt=a.b.c')).toBe('');
      expect(query('&&jwt=a.b.c&&')).toBe('');
      expect(canonical('/p?')).toBe('GET&/p&');
    });

    it('drops every jwt parameter, however its name is encoded', () => {
      expect(query('jwt=1&a=2&j%77t=3&jwt')).toBe('a=2');
      expect(query('JWT=1&jwt_=2')).toBe('JWT=1&jwt_=2');
    });

    it('decodes + and percent-escapes, then re-encodes per RFC 3986 with upper-case hex', () => {
      expect(query('a=x+y%20z')).toBe('a=x%20y%20z');
      expect(query('a=%2b%2B+')).toBe('a=%2B%2B%20');
      expect(query('a=*~%7e-._')).toBe('a=%2A~~-._');
      expect(query("a=!'()")).toBe('a=%21%27%28%29');
      expect(query('a=%c3%a9')).toBe('a=%C3%A9');
      expect(query('a=\u00e9\u{1F600}')).toBe('a=%C3%A9%F0%9F%98%80');
      expect(query('a%20b+c=1')).toBe('a%20b%20c=1');
    });

    it('gives a parameter without = an empty value', () => {
      expect(query('b&a')).toBe('a=&b=');
      expect(query('a=')).toBe('a=');
    });

    it('sorts by encoded name in code-unit order', () => {
      expect(query('b=1&a=2&B=3&A=4')).toBe('A=4&B=3&a=2&b=1');
      expect(query('a.b=1&a:b=2')).toBe('a%3Ab=2&a.b=1');
      expect(query('~=1&\u00e9=2')).toBe('%C3%A9=2&~=1');
    });

    it('joins repeated names with their decoded values sorted', () => {
      expect(query('a=2&b=1&a=10&a=1')).toBe('a=1,10,2&b=1');
      expect(query('a=%3A1&a=.1')).toBe('a=.1,%3A1');
      expect(query('a&a=&a=x')).toBe('a=,,x');
    });

    it('has no parameter limit and no reserved names', () => {
      const names = Array.from({ length: 5000 }, (_, i) => 'p' + String(i).padStart(4, '0'));
      expect(
        query(
          names
            .map((n) => n + '=1')
            .reverse()
            .join('&'),
        ),
      ).toBe(names.map((n) => n + '=1').join('&'));
      expect(query('__proto__=1&constructor=2&hasOwnProperty=3')).toBe('__proto__=1&constructor=2&hasOwnProperty=3');
      expect(query('__proto__=2&__proto__=1')).toBe('__proto__=1,2');
    });
  });

  describe('malformed input', () => {
    it('keeps a name or value with a % that starts no escape exactly as received', () => {
      expect(query('a=%zz')).toBe('a=%25zz');
      expect(query('a=%')).toBe('a=%25');
      expect(query('a=%41+%zz')).toBe('a=%2541%2B%25zz');
      expect(query('a=%E9%zz')).toBe('a=%25E9%25zz');
      expect(query('%zz=1')).toBe('%25zz=1');
    });

    it('decodes escapes that are not UTF-8 to U+FFFD, one per maximal invalid subsequence, as Java does', () => {
      expect(query('a=%E9')).toBe('a=%EF%BF%BD');
      expect(query('a=%E0%A4')).toBe('a=%EF%BF%BD');
      expect(query('a=%ED%A0%80')).toBe('a=%EF%BF%BD%EF%BF%BD%EF%BF%BD');
      expect(query('a=%C0%AF')).toBe('a=%EF%BF%BD%EF%BF%BD');
      expect(query('a=x%E9+%c3%a9')).toBe('a=x%EF%BF%BD%20%C3%A9');
      expect(query('%E0=1')).toBe('%EF%BF%BD=1');
      // Repeated values sort on the decoded text, U+FFFD included.
      expect(query('a=%E9&a=z')).toBe('a=z,%EF%BF%BD');
    });

    it('keeps exactly the well-formed UTF-8 that decodeURIComponent accepts, and replaces the rest as TextDecoder does', () => {
      const hex = (b: number) => '%' + b.toString(16).toUpperCase().padStart(2, '0');
      const seconds = [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0];
      const tails = ['', '%80', '%BF', '%80%80', '%BF%BF', '%C0%80', '%80%7F'];
      for (let lead = 0x80; lead <= 0xff; lead++) {
        for (const second of seconds) {
          for (const tail of tails) {
            const raw = hex(lead) + hex(second) + tail;
            expect([raw, query('a=' + raw)]).toEqual([raw, 'a=' + reference(raw)]);
          }
        }
      }
      expect(query('a=%E0%A0%80&b=%F4%8F%BF%BF&c=%ED%9F%BF')).toBe('a=%E0%A0%80&b=%F4%8F%BF%BF&c=%ED%9F%BF');
      // Overlong, beyond U+10FFFF: one U+FFFD per byte, none of them starts a well-formed character.
      const fffd = (n: number) => '%EF%BF%BD'.repeat(n);
      expect(query('a=%E0%9F%BF&b=%F4%90%80%80')).toBe(`a=${fffd(3)}&b=${fffd(4)}`);
      expect(query('c=%F0%8F%BF%BF')).toBe(`c=${fffd(4)}`);
    });

    it('does not confuse an undecodable component with the decoded reading of valid input', () => {
      expect(query('a=%41%zz')).not.toBe(query('a=A%25zz'));
      // Invalid UTF-8 and U+FFFD do meet, on purpose: the host's decoder makes them the same text.
      expect(query('a=%E0%A4')).toBe(query('a=%EF%BF%BD'));
    });

    it('encodes a lone surrogate as U+FFFD', () => {
      expect(query('a=\ud800')).toBe('a=%EF%BF%BD');
      expect(query('a=x\udc00y')).toBe('a=x%EF%BF%BDy');
      expect(query('\ud800=1&\ufffd=2')).toBe('%EF%BF%BD=1,2');
      expect(() => queryStringHash('GET', '/\ud800?a=\udfff')).not.toThrow();
    });

    it('throws only ConnectError for arguments it cannot use', () => {
      const bad: [unknown, unknown, unknown, string][] = [
        [undefined, '/a', undefined, 'jwt/malformed'],
        ['GET', null, undefined, 'jwt/malformed'],
        ['GET', '/a', 42, 'config/invalid'],
        ['GET', '/a?' + 'x'.repeat(MAX_CANONICAL_URL_LENGTH), undefined, 'jwt/malformed'],
      ];
      for (const [method, url, baseUrl, code] of bad) {
        let thrown: unknown;
        try {
          canonicalRequest(method as string, url as string, baseUrl as string);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(ConnectError);
        expect((thrown as ConnectError).code).toBe(code);
      }
      expect(canonical('/a', null as unknown as string)).toBe('GET&/a&');
    });
  });

  describe('on random input', () => {
    // mulberry32: a small seeded PRNG, so any failure reproduces.
    function prng(seed: number): () => number {
      return () => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
    }
    const random = prng(0x5eed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const pieces = [
      '%',
      '%2',
      '%zz',
      '%41',
      '%E0',
      '%A4',
      '%C3%A9',
      '%ED%A0%80',
      '%2B',
      '%25',
      '%7e',
      '+',
      '=',
      '?',
      '/',
      ':',
      '.',
      '~',
      '*',
      ' ',
      'a',
      'B',
      'jwt',
      '__proto__',
      '\u00e9',
      '\ud800',
      '\udc00',
      '\u{1F600}',
    ];
    const text = (max: number, extra: readonly string[] = []) => {
      const all = [...pieces, ...extra];
      let s = '';
      for (let n = Math.floor(random() * max); n > 0; n--) s += pick(all);
      return s;
    };
    const shuffled = <T>(items: T[]): T[] => {
      const copy = [...items];
      for (let i = copy.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [copy[i], copy[j]] = [copy[j]!, copy[i]!];
      }
      return copy;
    };

    it('never throws, and is deterministic and independent of parameter order', () => {
      for (let run = 0; run < 3000; run++) {
        const path = ('/' + text(4, ['&', '#'])).split(/[?#]/)[0]!;
        const params = Array.from({ length: Math.floor(random() * 8) }, () => text(6));
        const baseUrl = pick([undefined, 'https://x.atlassian.net/wiki', '/' + text(3), text(6, ['&', '#', '://'])]);
        const url = path + '?' + params.join('&');
        const first = canonicalRequest('get', url, baseUrl);
        expect(canonicalRequest('get', url, baseUrl)).toBe(first);
        expect(canonicalRequest('get', path + '?' + shuffled(params).join('&'), baseUrl)).toBe(first);
        expect(queryStringHash('get', url, baseUrl)).toBe(sha256(first));
      }
    });

    it('encodes each name and value as decoding then re-encoding would', () => {
      const hex = ['%', '%0', '%7', '%8', '%C', '%E', '%F', '%a', '%f', 'F', 'f', '0', '4', '8', 'B', 'D'];
      for (let run = 0; run < 3000; run++) {
        const raw = text(6, hex).replace(/[=&#]/g, '');
        expect(query('a=' + raw)).toBe('a=' + reference(raw));
        expect(query(raw + '=1')).toBe(reference(raw) === 'jwt' ? '' : reference(raw) + '=1');
        expect(query(`a=${raw}&a=${raw}`)).toBe(`a=${reference(raw)},${reference(raw)}`);
      }
    });

    it('throws nothing but ConnectError on arbitrary strings', () => {
      for (let run = 0; run < 3000; run++) {
        const url = text(20, ['&', '#', 'https://', '//', '\u0000']);
        const baseUrl = random() < 0.5 ? undefined : text(8, ['https://', '#']);
        try {
          canonicalRequest(text(2), url, baseUrl);
        } catch (error) {
          expect(error).toBeInstanceOf(ConnectError);
        }
      }
    });
  });
});
