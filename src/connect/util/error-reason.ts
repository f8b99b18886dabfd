/**
 * A short reason for a failure, for messages and logs: the error's message and, when it has one, its
 * cause's errno code or message (`fetch failed: ECONNREFUSED`). Never the stack.
 */
export function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const causeText = cause instanceof Error ? `: ${(cause as NodeJS.ErrnoException).code ?? cause.message}` : '';
  return `${error.message}${causeText}`;
}
