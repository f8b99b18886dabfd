import { createHmac, createSecretKey } from 'node:crypto';
import fc from 'fast-check';
import { jwtVerify, SignJWT } from 'jose';
import { ConnectError } from '../../errors/connect-error.js';
import { assertHs256Header, assertTimeClaims, hmacSha256Base64url, hs256Key, parseCompactJwt, verifyHs256Signature } from './compact-jwt.js';

const secret = Buffer.from('a shared secret of reasonable length, 32+ bytes');
const otherSecret = Buffer.from('another shared secret, also long enough to use');
const key = createSecretKey(secret);
const otherKey = createSecretKey(otherSecret);
const hsKey = hs256Key(secret);
const otherHsKey = hs256Key(otherSecret);
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

async function sign(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }, signingKey = key): Promise<string> {
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(signingKey);
}

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof ConnectError) return error.code;
    throw error;
  }
  return 'ok';
}

describe('parseCompactJwt', () => {
  it('decodes header and claims once and keeps the signing input and signature text', async () => {
    const token = await sign({ iss: 'client', qsh: 'x' });
    const jwt = parseCompactJwt(token);
    expect(jwt.header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(jwt.claims).toEqual({ iss: 'client', qsh: 'x' });
    expect(jwt.signingInput).toBe(token.slice(0, token.lastIndexOf('.')));
    expect(jwt.signature).toBe(token.slice(token.lastIndexOf('.') + 1));
  });

  it('decodes a repeated header once into a frozen object, and still decodes every distinct header right past the memory bound', async () => {
    const token = await sign({ iss: 'a' });
    const first = parseCompactJwt(token).header;
    expect(parseCompactJwt(token).header).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    for (let i = 0; i < 100; i++) {
      const header = { alg: 'HS256', typ: 'JWT', n: i };
      expect(parseCompactJwt(await sign({ iss: 'a' }, header)).header).toEqual(header);
    }
    expect(codeOf(() => parseCompactJwt(`${b64('{"alg":')}.${b64({})}.sig`))).toBe('jwt/malformed');
  });

  it.each([
    ['no dots', 'abc'],
    ['two parts', `${b64({ alg: 'HS256' })}.${b64({})}`],
    ['four parts', `${b64({ alg: 'HS256' })}.${b64({})}.sig.more`],
    ['empty header', `.${b64({})}.sig`],
    ['empty claims', `${b64({ alg: 'HS256' })}..sig`],
    ['padding', `${b64({ alg: 'HS256' })}=.${b64({})}.sig`],
    ['standard base64 characters', `${b64({ alg: 'HS256' })}.${b64({})}.a+b/`],
    ['header not JSON', `${b64('not json')}.${b64({})}.sig`],
    ['claims not JSON', `${b64({ alg: 'HS256' })}.${b64('{')}.sig`],
    ['claims an array', `${b64({ alg: 'HS256' })}.${b64([1])}.sig`],
    ['claims null', `${b64({ alg: 'HS256' })}.${b64(null)}.sig`],
    ['header a string', `${b64('"HS256"')}.${b64({})}.sig`],
  ])('refuses %s as jwt/malformed', (_name, token) => {
    expect(codeOf(() => parseCompactJwt(token))).toBe('jwt/malformed');
  });
});

describe('assertHs256Header', () => {
  it.each([
    [{ alg: 'none' }, 'jwt/unsupported-alg'],
    [{ alg: 'RS256' }, 'jwt/unsupported-alg'],
    [{ alg: 'hs256' }, 'jwt/unsupported-alg'],
    [{}, 'jwt/unsupported-alg'],
    [{ alg: 'HS256', crit: ['exp'] }, 'jwt/malformed'],
    [{ alg: 'HS256', b64: false }, 'jwt/malformed'],
    [{ alg: 'HS256', typ: 'JWT', kid: 'ignored' }, 'ok'],
  ])('%j → %s', (header, code) => {
    expect(codeOf(() => assertHs256Header(header))).toBe(code);
  });
});

describe('verifyHs256Signature', () => {
  it('accepts the signature made with the key and refuses another key, a truncated and an empty signature', async () => {
    const token = await sign({ iss: 'client' });
    expect(codeOf(() => verifyHs256Signature(parseCompactJwt(token), hsKey))).toBe('ok');
    expect(codeOf(() => verifyHs256Signature(parseCompactJwt(token), otherHsKey))).toBe('jwt/invalid-signature');
    expect(codeOf(() => verifyHs256Signature(parseCompactJwt(token.slice(0, -1)), hsKey))).toBe('jwt/invalid-signature');
    expect(codeOf(() => verifyHs256Signature(parseCompactJwt(token.slice(0, token.lastIndexOf('.') + 1)), hsKey))).toBe('jwt/invalid-signature');
  });

  it('refuses a signature whose last character differs only in padding bits (same bytes when decoded leniently)', async () => {
    const token = await sign({ iss: 'client' });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(token.at(-1)!);
    const twin = alphabet[(last & ~3) | ((last + 1) & 3)];
    const tampered = token.slice(0, -1) + twin;
    expect(Buffer.from(tampered.split('.')[2]!, 'base64url')).toEqual(Buffer.from(token.split('.')[2]!, 'base64url'));
    expect(codeOf(() => verifyHs256Signature(parseCompactJwt(tampered), hsKey))).toBe('jwt/invalid-signature');
  });

  it('agrees with jose on arbitrary claims, keys and tampering', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
        fc.boolean(),
        fc.nat({ max: 200 }),
        async (claims, useOtherKey, flipAt) => {
          const token = await sign(claims);
          const position = flipAt % token.length;
          const flipped = token[position] === 'A' ? 'B' : 'A';
          const candidate = flipAt > 150 ? token.slice(0, position) + flipped + token.slice(position + 1) : token;
          const verifyingKey = useOtherKey ? otherKey : key;
          let joseAccepts = true;
          try {
            await jwtVerify(candidate, verifyingKey, { algorithms: ['HS256'] });
          } catch {
            joseAccepts = false;
          }
          let oursAccepts = true;
          try {
            const jwt = parseCompactJwt(candidate);
            assertHs256Header(jwt.header);
            verifyHs256Signature(jwt, useOtherKey ? otherHsKey : hsKey);
          } catch (error) {
            expect(error).toBeInstanceOf(ConnectError);
            oursAccepts = false;
          }
          expect(oursAccepts).toBe(joseAccepts);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('hmacSha256Base64url', () => {
  it('equals createHmac for arbitrary keys (empty, short, exactly a block, longer than a block) and latin1 texts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.string({ unit: 'binary-ascii', maxLength: 600 }), (keyBytes, text) => {
        const keyBuffer = Buffer.from(keyBytes);
        expect(hmacSha256Base64url(hs256Key(keyBuffer), text)).toBe(createHmac('sha256', keyBuffer).update(text, 'latin1').digest('base64url'));
      }),
      { numRuns: 300 },
    );
    for (const length of [0, 1, 63, 64, 65, 128]) {
      const keyBuffer = Buffer.alloc(length, 7);
      expect(hmacSha256Base64url(hs256Key(keyBuffer), 'abc')).toBe(createHmac('sha256', keyBuffer).update('abc', 'latin1').digest('base64url'));
    }
  });
});

describe('assertTimeClaims', () => {
  const now = 1_800_000_000;
  it.each([
    [{ exp: now + 60 }, 'ok'],
    [{ exp: now - 29 }, 'ok'], // within the 30 s leeway
    [{ exp: now - 30 }, 'jwt/expired'],
    [{ exp: now - 3600 }, 'jwt/expired'],
    [{}, 'jwt/malformed'],
    [{ exp: '1800000060' }, 'jwt/malformed'],
    [{ exp: Number.POSITIVE_INFINITY }, 'jwt/malformed'],
    [{ exp: now + 60, nbf: now + 30 }, 'ok'],
    [{ exp: now + 60, nbf: now + 31 }, 'jwt/not-yet-valid'],
    [{ exp: now + 60, nbf: 'soon' }, 'jwt/malformed'],
  ])('%j → %s', (claims, code) => {
    expect(codeOf(() => assertTimeClaims(claims, 30, now))).toBe(code);
  });
});
