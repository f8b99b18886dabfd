/**
 * Fetching small documents from a configured host (install keys, the Forge JWKS): redirects are
 * errors, since only the configured host may answer, and a body is read only up to a bound, with the
 * download cancelled as soon as it goes past it.
 */

/** Thrown by {@link readBodyCapped} when a body is larger than allowed. */
export class ResponseTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`The response is larger than ${maxBytes} bytes.`);
  }
}

/** `fetch` that refuses to follow redirects (a redirect rejects like a network error). */
export function fetchWithoutRedirects(fetchImpl: typeof fetch, input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  return fetchImpl(input, { ...init, redirect: 'error' });
}

/**
 * The whole body, at most `maxBytes`: a declared `content-length` above it is refused before reading,
 * and a body that grows past it is cancelled. Throws {@link ResponseTooLarge}.
 */
export async function readBodyCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await discardBody(response);
    throw new ResponseTooLarge(maxBytes);
  }
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new ResponseTooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** Drops a body that will not be read, so the connection is freed. */
export async function discardBody(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // nothing to free
  }
}
