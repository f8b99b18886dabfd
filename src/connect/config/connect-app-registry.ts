import type { ResolvedConnectApp } from './resolved-connect-app.js';

/**
 * The apps of this process, and which one a request belongs to. An app owns the requests whose path
 * lies under its baseUrl path (as whole segments). When several apps claim a path (apps told apart by
 * host name, like `jira.example.com` and `confluence.example.com` with the same paths), the request's
 * host decides; if the host matches none of them, no app owns it.
 */
export class ConnectAppRegistry {
  private readonly byKey: ReadonlyMap<string, ResolvedConnectApp>;
  private readonly byForgeAppId: ReadonlyMap<string, ResolvedConnectApp>;

  constructor(readonly apps: readonly ResolvedConnectApp[]) {
    this.byKey = new Map(apps.map((app) => [app.key, app]));
    this.byForgeAppId = new Map(apps.flatMap((app) => (app.forgeAppId === undefined ? [] : [[app.forgeAppId, app] as const])));
  }

  get(key: string): ResolvedConnectApp | undefined {
    return this.byKey.get(key);
  }

  /** The app configured with this Forge app id (`forge.appId`), if any. */
  getByForgeAppId(appId: string): ResolvedConnectApp | undefined {
    return this.byForgeAppId.get(appId);
  }

  /**
   * The app owning a request, given its host name and raw path (query allowed, it is ignored). The host
   * name may be given as a function: it is then called only when several apps share the path.
   */
  resolve(hostname: string | undefined | (() => string | undefined), rawUrl: string): ResolvedConnectApp | undefined {
    const path = pathOf(rawUrl);
    let best: ResolvedConnectApp[] = [];
    let bestLength = -1;
    for (const app of this.apps) {
      if (!isUnder(path, app.basePath)) continue;
      if (app.basePath.length > bestLength) {
        best = [app];
        bestLength = app.basePath.length;
      } else if (app.basePath.length === bestLength) {
        best.push(app);
      }
    }
    if (best.length <= 1) return best[0];
    const host = (typeof hostname === 'function' ? hostname() : hostname)?.toLowerCase();
    const onHost = best.filter((app) => app.hostname === host);
    return onHost.length === 1 ? onHost[0] : undefined;
  }

  /** The path of a route of `app`, e.g. `/jira` + `/installed`. */
  static routePath(app: ResolvedConnectApp, relative: string): string {
    return app.basePath + relative;
  }
}

function pathOf(rawUrl: string): string {
  const query = rawUrl.indexOf('?');
  const fragment = rawUrl.indexOf('#');
  const end = query === -1 ? fragment : fragment === -1 ? query : Math.min(query, fragment);
  return end === -1 ? rawUrl : rawUrl.slice(0, end);
}

function isUnder(path: string, basePath: string): boolean {
  if (basePath === '') return true;
  return path === basePath || (path.startsWith(basePath) && path.charCodeAt(basePath.length) === 47); /* / */
}
