import type { ConnectRequestContext } from 'atlassian-connect-nest';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);
}

/** A page the product frames: it loads the product's all.js so the iframe can talk to its host. */
export function helloPage(context: ConnectRequestContext, heading: string): string {
  const site = escapeHtml(context.tenant.baseUrl);
  const user = context.accountId ? escapeHtml(context.accountId) : 'an anonymous user';
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>${escapeHtml(heading)}</title>
  <script src="https://connect-cdn.atl-paas.net/all.js" async></script>
</head>
<body>
  <h1>${escapeHtml(heading)}</h1>
  <p>Served by ${escapeHtml(context.app.key)} to ${user} on ${site}.</p>
</body>
</html>`;
}
