/**
 * A URL safe to log: the value of the `jwt` query parameter is replaced, so request logs never carry
 * a token.
 */
export function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start === -1) return url;
  const query = url
    .slice(start + 1)
    .split('&')
    .map((pair) => (/^jwt(=|$)/i.test(pair) ? 'jwt=[redacted]' : pair))
    .join('&');
  return `${url.slice(0, start)}?${query}`;
}
