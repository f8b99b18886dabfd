import type { ConnectErrorCode } from '../errors/connect-error-codes.js';
import { ConnectError } from '../errors/connect-error.js';

/** The codes a `ConnectClientError` can have: the `client/…` error codes. */
export type ClientErrorCode = Extract<ConnectErrorCode, `client/${string}`>;

export interface ConnectClientErrorFacts {
  /** HTTP status of the last response, when there was one. */
  status?: number;
  method: string;
  /** The URL called, without any token. */
  url: string;
  /** The product's own error messages, parsed from the body (`errorMessages`, `errors`, `message`). */
  productMessages?: readonly string[];
  /** The `code` string of a JSON error body, when it has one (Forge's storage API: `KEY_NOT_FOUND`, `RATE_LIMIT_EXCEEDED`, …). */
  productErrorCode?: string | undefined;
  /** How many times the request was retried before giving up. */
  retries: number;
}

/**
 * A failed call to the product's REST API. It carries what you need to act on it and never the
 * Authorization header or a token: not in `message`, `toString()` or `toJSON()`.
 */
export class ConnectClientError extends ConnectError {
  readonly status: number | undefined;
  readonly method: string;
  readonly url: string;
  readonly productMessages: readonly string[];
  /** The `code` string of the product's JSON error body, if any (at most 100 characters). */
  readonly productErrorCode: string | undefined;
  readonly retries: number;

  constructor(code: ClientErrorCode, message: string, facts: ConnectClientErrorFacts, cause?: unknown) {
    super(code, message, undefined, cause === undefined ? undefined : { cause });
    this.status = facts.status;
    this.method = facts.method;
    this.url = facts.url;
    this.productMessages = Object.freeze([...(facts.productMessages ?? [])]);
    this.productErrorCode = facts.productErrorCode;
    this.retries = facts.retries;
  }

  override toString(): string {
    return `ConnectClientError [${this.code}]: ${this.message}`;
  }

  /** For logs: everything but credentials. */
  toLogJSON(): Record<string, unknown> {
    return { type: this.code, message: this.message, status: this.status, method: this.method, url: this.url, productMessages: this.productMessages, retries: this.retries };
  }
}

/** The `code` field of a JSON error body (`{ code, message }`, as Forge's APIs answer), bounded. */
export function productErrorCodeOf(body: unknown): string | undefined {
  const code = body !== null && typeof body === 'object' ? (body as Record<string, unknown>).code : undefined;
  return typeof code === 'string' && code !== '' ? code.slice(0, 100) : undefined;
}

/** The product's error messages from a JSON error body (Jira: `errorMessages`/`errors`; Confluence: `message`). */
export function productMessagesOf(body: unknown): string[] {
  if (body === null || typeof body !== 'object') return typeof body === 'string' && body.trim() !== '' ? [body.trim().slice(0, 500)] : [];
  const record = body as Record<string, unknown>;
  const messages: string[] = [];
  if (Array.isArray(record.errorMessages)) messages.push(...record.errorMessages.filter((m): m is string => typeof m === 'string'));
  if (record.errors !== null && typeof record.errors === 'object') {
    for (const [field, value] of Object.entries(record.errors as Record<string, unknown>)) {
      if (typeof value === 'string') messages.push(`${field}: ${value}`);
    }
  }
  if (typeof record.message === 'string') messages.push(record.message);
  return messages.slice(0, 20).map((message) => message.slice(0, 500));
}
