import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpCallOptions {
  method: string;
  /** Absolute URL the request is sent to. */
  url: string;
  /** Overrides the Host header (to reach an app told apart by host name through 127.0.0.1). */
  host?: string | undefined;
  headers?: Record<string, string> | undefined;
  /** Sent as JSON when an object, as is when a string. */
  body?: unknown | undefined;
  /** Longest silence on the socket before the call fails. Default 10 000. */
  timeoutMs?: number | undefined;
  /** Aborts the call (e.g. `AbortSignal.timeout(ms)`: a deadline on the whole exchange); the promise then rejects with an `AbortError`. */
  signal?: AbortSignal | undefined;
}

export interface HttpCallResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the response is JSON, the text otherwise. */
  body: unknown;
  text: string;
}

/**
 * One HTTP request with node:http (not fetch: fetch may not set the Host header, and tests of apps
 * told apart by host name need to).
 */
export function httpCall(options: HttpCallOptions): Promise<HttpCallResponse> {
  const url = new URL(options.url);
  const payload = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (payload !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  if (options.host !== undefined) headers.host = options.host;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const requestOptions = { method: options.method, headers, timeout: options.timeoutMs ?? 10_000, ...(options.signal !== undefined && { signal: options.signal }) };
    const req = send(url, requestOptions, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        if (/json/i.test(String(res.headers['content-type'])) && text !== '') {
          try {
            body = JSON.parse(text);
          } catch {
            body = text;
          }
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`No answer from ${url.origin} within the timeout.`)));
    req.on('error', reject);
    req.end(payload);
  });
}
