const FATAL_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A base64url JWT part as text, or `undefined` when its bytes are not valid UTF-8 (RFC 7519 requires
 * UTF-8 JSON). Node's own decoding would repair such bytes to U+FFFD and so accept a token whose signed
 * bytes say something else than the claims read from them.
 */
export function base64urlUtf8(part: string): string | undefined {
  try {
    return FATAL_UTF8.decode(Buffer.from(part, 'base64url'));
  } catch {
    return undefined;
  }
}

/** Whether the header and payload parts of a compact JWS decode as valid UTF-8. */
export function jwtPartsAreUtf8(token: string): boolean {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first < 0 || second < 0) return true; // not a compact JWS: the parser that reads it says so
  return base64urlUtf8(token.slice(0, first)) !== undefined && base64urlUtf8(token.slice(first + 1, second)) !== undefined;
}
