import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { ConnectError } from '../../errors/connect-error.js';
import { canonicalRequest, queryStringHash } from './canonical-request.js';

const RUNS = { numRuns: 500 };

/** Any string: ASCII-heavy with URL punctuation, arbitrary UTF-16 (lone surrogates included), bytes read as Latin-1. */
const urlChars = fc.constantFrom('%', '+', '&', '=', '?', '#', '/', ':', ';', ',', ' ', 'a', 'Z', '0', 'e', '2', 'F', 'j', 'w', 't', '\u00e9', '\ud800', '\udc00', '\u{1F600}');
const hostileString = fc.oneof(
  fc.string({ unit: urlChars, maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ maxLength: 80 }),
  fc.uint8Array({ maxLength: 80 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  fc.uint8Array({ maxLength: 80 }).map((bytes) => Buffer.from(bytes).toString('utf8')),
);
const method = fc.oneof(fc.constantFrom('GET', 'post', 'Put', 'DELETE', ''), hostileString);
const baseUrl = fc.option(fc.oneof(fc.constantFrom('https://x.example/wiki', 'https://x.example', '/jira', ''), hostileString), { nil: undefined });
/** A well-formed (no lone surrogates) string, which encodeURIComponent accepts. */
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const text = fc.string({ unit: 'binary', maxLength: 12 }).filter((s) => !loneSurrogate.test(s));

function onlyConnectErrors(run: () => unknown): void {
  try {
    expect(typeof run()).toBe('string');
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectError);
  }
}

describe('canonicalRequest (properties)', () => {
  it('never throws anything but ConnectError on arbitrary methods, URLs and base URLs, and is deterministic', () => {
    fc.assert(
      fc.property(method, hostileString, baseUrl, (m, url, base) => {
        onlyConnectErrors(() => canonicalRequest(m, url, base));
        onlyConnectErrors(() => canonicalRequest(m, '/p?' + url, base));
        onlyConnectErrors(() => queryStringHash(m, url, base));
        let first: string | undefined;
        try {
          first = canonicalRequest(m, url, base);
        } catch {
          return;
        }
        expect(canonicalRequest(m, url, base)).toBe(first);
        expect(queryStringHash(m, url, base)).toBe(createHash('sha256').update(first, 'utf8').digest('hex'));
      }),
      RUNS,
    );
  });

  it('rejects non-string input with ConnectError only', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (m, url, base) => {
        onlyConnectErrors(() => canonicalRequest(m as string, url as string, base as string));
      }),
      { numRuns: 200 },
    );
  });

  it('does not depend on the order of the query parameters', () => {
    const pair = fc.tuple(hostileString, fc.option(hostileString, { nil: undefined })).map(([name, value]) => {
      const clean = (s: string) => s.replace(/[&#]/g, '');
      return value === undefined ? clean(name) : `${clean(name).replace(/=/g, '')}=${clean(value)}`;
    });
    fc.assert(
      fc.property(
        fc.array(pair, { maxLength: 8 }),
        fc.func(fc.integer()),
        hostileString.map((s) => '/' + s.replace(/[?#]/g, '')),
        (pairs, key, path) => {
          const shuffled = [...pairs]
            .map((p, i) => ({ p, k: key(p, i) }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.p);
          expect(canonicalRequest('GET', `${path}?${shuffled.join('&')}`)).toBe(canonicalRequest('GET', `${path}?${pairs.join('&')}`));
        },
      ),
      RUNS,
    );
  });

  it('round-trips: names and values encoded with encodeURIComponent decode back from the canonical query', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(text, text), { maxLength: 8 }), (pairs) => {
        const query = pairs.map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`).join('&');
        const canonical = canonicalRequest('GET', `/p?${query}`);
        expect(canonical.startsWith('GET&/p&')).toBe(true);
        const canonicalQuery = canonical.slice('GET&/p&'.length);
        const expected = new Map<string, string[]>();
        for (const [n, v] of pairs) {
          if (n === 'jwt') continue; // the token parameter is never part of the hash
          expected.set(n, [...(expected.get(n) ?? []), v]);
        }
        const actual = new Map<string, string[]>();
        for (const part of canonicalQuery === '' ? [] : canonicalQuery.split('&')) {
          const eq = part.indexOf('=');
          expect(eq).toBeGreaterThanOrEqual(0);
          // Only unreserved characters and upper-case escapes remain.
          expect(part).toMatch(/^([A-Za-z0-9._~-]|%[0-9A-F]{2}|=|,)*$/);
          const name = decodeURIComponent(part.slice(0, eq));
          actual.set(
            name,
            part
              .slice(eq + 1)
              .split(',')
              .map(decodeURIComponent),
          );
        }
        const sorted = (m: Map<string, string[]>) => [...m.entries()].map(([k, v]) => [k, [...v].sort()] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        expect(sorted(actual)).toEqual(sorted(expected));
      }),
      RUNS,
    );
  });

  it('canonicalises an already canonical query to itself', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(text, text), { maxLength: 6 }), (pairs) => {
        const query = pairs.map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`).join('&');
        const once = canonicalRequest('GET', `/p?${query}`).slice('GET&/p&'.length);
        // A canonical query with repeated names joins values with ","; only re-check the single-valued case.
        if (new Set(pairs.map(([n]) => n)).size !== pairs.length) return;
        expect(canonicalRequest('GET', `/p?${once}`).slice('GET&/p&'.length)).toBe(once);
      }),
      RUNS,
    );
  });
});
