import type { ConnectProduct } from '../config/connect-product.js';
import { DEFAULT_FAKE_CONTENTS, DEFAULT_FAKE_PROJECTS, DEFAULT_FAKE_SPACES } from '../testing/fake-product-api.js';
import { asList, isObject, productOfModuleType } from './descriptor-checks.js';

/** The account the simulated user has (Atlassian's documentation sample id). */
export const SAMPLE_ACCOUNT_ID = '5b10ac8d82e05b22cc7d4ef5';
/** The `cv` (Connect version) query parameter the simulated site sends. */
export const SIMULATED_CONNECT_VERSION = '1001.0.0-SNAPSHOT';

/**
 * Module types whose URL the product loads in an iframe (or, for static macros, fetches server-side)
 * with a `?jwt=` token and context parameters. `target.url` counts for jiraIssueContents/jiraIssueGlances.
 */
export const PAGE_MODULE_TYPES: Readonly<Record<ConnectProduct | 'common', readonly string[]>> = {
  common: ['generalPages', 'adminPages', 'configurePage', 'postInstallPage', 'webPanels', 'dialogs'],
  jira: [
    'jiraProjectPages',
    'jiraProjectAdminTabPanels',
    'jiraProjectTabPanels',
    'jiraIssueTabPanels',
    'jiraVersionTabPanels',
    'jiraComponentTabPanels',
    'jiraUserProfileTabPanels',
    'jiraDashboardItems',
    'jiraReports',
    'jiraIssueContents',
    'jiraIssueGlances',
    'jiraBackgroundScripts',
  ],
  confluence: ['staticContentMacros', 'dynamicContentMacros', 'spaceToolsTabs'],
};

/** A module URL the simulator calls. */
export interface SimulatedModule {
  kind: 'page' | 'webhook';
  /** The module type, e.g. `generalPages`, `webhooks`. */
  type: string;
  /** The module key; for a webhook its event. */
  key: string;
  /** The URL as the descriptor declares it. */
  declaredUrl: string;
  /** Path and query below the app's origin (baseUrl path + URL, variables filled in), without context parameters. */
  path: string;
  method: 'GET' | 'POST';
  /** For webhooks. */
  event?: string;
  /** `{variables}` the simulator knows no sample value for: sent empty, as the product does. */
  unknownVariables: string[];
}

const FIRST_PAGE = DEFAULT_FAKE_CONTENTS[0]!;
const FIRST_SPACE = DEFAULT_FAKE_SPACES[0]!;
const FIRST_PROJECT = DEFAULT_FAKE_PROJECTS[0]!;

/** Sample values of the context variables (`{page.id}`, `{issue.key}`, …) a module URL may carry. */
export const SAMPLE_CONTEXT: Readonly<Record<ConnectProduct, Readonly<Record<string, string>>>> = {
  jira: {
    'user.accountId': SAMPLE_ACCOUNT_ID,
    'profileUser.accountId': SAMPLE_ACCOUNT_ID,
    'issue.id': '10100',
    'issue.key': `${FIRST_PROJECT.key}-1`,
    'issuetype.id': '10001',
    'project.id': FIRST_PROJECT.id,
    'project.key': FIRST_PROJECT.key,
    'version.id': '10000',
    'component.id': '10000',
    'board.id': '1',
    'board.type': 'scrum',
    'board.screen': 'work',
    'sprint.id': '1',
    'sprint.state': 'active',
    'dashboard.id': '10000',
    'dashboardItem.id': '10001',
    'dashboardItem.key': 'sample-item',
    'dashboardItem.viewType': 'DEFAULT',
  },
  confluence: {
    'user.accountId': SAMPLE_ACCOUNT_ID,
    'page.id': FIRST_PAGE.id,
    'page.version': '1',
    'page.type': 'page',
    'page.title': FIRST_PAGE.title,
    'content.id': FIRST_PAGE.id,
    'content.version': '1',
    'content.type': 'page',
    'space.id': String(FIRST_SPACE.id),
    'space.key': FIRST_SPACE.key,
    'macro.id': 'c0ffee00-0000-4000-8000-000000000001',
    'macro.hash': 'c0ffee00-0000-4000-8000-000000000001',
    'macro.body': '',
    'macro.truncated': 'false',
    'output.type': 'display',
  },
};

/**
 * The module URLs a site would call, in descriptor order: page-like modules (see {@link PAGE_MODULE_TYPES},
 * plus web items that open a dialog) and webhooks. Only relative URLs are taken (the checks report the
 * others); variables are filled in with {@link SAMPLE_CONTEXT}, macro parameters with their default or `sample`.
 */
export function discoverModules(descriptor: Record<string, unknown>, product: ConnectProduct): SimulatedModule[] {
  const basePath = typeof descriptor.baseUrl === 'string' ? safePath(descriptor.baseUrl) : '';
  const modules = isObject(descriptor.modules) ? descriptor.modules : {};
  const pageTypes = new Set([...PAGE_MODULE_TYPES.common, ...PAGE_MODULE_TYPES[product]]);
  const found: SimulatedModule[] = [];
  for (const [type, value] of Object.entries(modules)) {
    const owner = productOfModuleType(type);
    if (owner !== undefined && owner !== product) continue;
    for (const module of asList(value)) {
      if (!isObject(module)) continue;
      if (type === 'webhooks') {
        if (typeof module.url !== 'string' || !isRelative(module.url) || typeof module.event !== 'string') continue;
        const { url, unknown } = fillVariables(module.url, SAMPLE_CONTEXT[product]);
        found.push({ kind: 'webhook', type, key: module.event, event: module.event, declaredUrl: module.url, path: basePath + url, method: 'POST', unknownVariables: unknown });
        continue;
      }
      const url = pageUrlOf(type, module, pageTypes);
      if (url === undefined || typeof module.key !== 'string') continue;
      const values = { ...SAMPLE_CONTEXT[product], ...macroParameterSamples(module) };
      const filled = fillVariables(url, values);
      found.push({ kind: 'page', type, key: module.key, declaredUrl: url, path: basePath + filled.url, method: 'GET', unknownVariables: filled.unknown });
    }
  }
  return found;
}

/**
 * The query parameters a product adds to an iframe URL (besides `jwt`): licence state, context path,
 * the host's origin and channel, Connect version, time zone and locale.
 */
export function contextParameters(site: { baseUrl: string }, appKey: string, moduleKey: string, licensing: boolean): [string, string][] {
  const base = new URL(site.baseUrl);
  return [
    ['xdm_e', base.origin],
    ['xdm_c', `channel-${appKey}__${moduleKey}`],
    ['cp', base.pathname.replace(/\/+$/, '')],
    ['lic', licensing ? 'active' : 'none'],
    ['cv', SIMULATED_CONNECT_VERSION],
    ['tz', 'UTC'],
    ['loc', 'en-US'],
  ];
}

/** `path` with the parameters appended (RFC 3986 encoded). */
export function withQuery(path: string, params: [string, string][]): string {
  if (params.length === 0) return path;
  const query = params.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join('&');
  return `${path}${path.includes('?') ? '&' : '?'}${query}`;
}

/** Fills `{name}` variables; unknown ones become empty, as in the product. */
export function fillVariables(url: string, values: Readonly<Record<string, string>>): { url: string; unknown: string[] } {
  const unknown: string[] = [];
  const filled = url.replace(/\{([A-Za-z0-9_.-]+)\}/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) {
      unknown.push(name);
      return '';
    }
    return encodeURIComponent(value);
  });
  return { url: filled, unknown };
}

/** A sample webhook body for an event, shaped like the product's (only the commonly read fields). */
export function sampleWebhookBody(event: string, product: ConnectProduct, siteBaseUrl: string): Record<string, unknown> {
  const timestamp = Date.now();
  if (product === 'jira') {
    const issue = {
      id: SAMPLE_CONTEXT.jira['issue.id'],
      key: SAMPLE_CONTEXT.jira['issue.key'],
      self: `${siteBaseUrl}/rest/api/2/issue/${SAMPLE_CONTEXT.jira['issue.id']}`,
      fields: { summary: 'A sample issue from atlassian-connect-nest simulate', project: { id: FIRST_PROJECT.id, key: FIRST_PROJECT.key, name: FIRST_PROJECT.name } },
    };
    const name = event.replace(/^jira:/, '');
    return { timestamp, webhookEvent: event, ...(name.startsWith('issue_') && { issue_event_type_name: name }), user: { accountId: SAMPLE_ACCOUNT_ID }, issue };
  }
  const page = {
    id: Number(FIRST_PAGE.id),
    title: FIRST_PAGE.title,
    spaceKey: FIRST_SPACE.key,
    contentType: 'page',
    version: 1,
    self: `${siteBaseUrl}/spaces/${FIRST_SPACE.key}/pages/${FIRST_PAGE.id}`,
  };
  return { timestamp, userAccountId: SAMPLE_ACCOUNT_ID, accountType: 'customer', webhookEvent: event, page, space: { key: FIRST_SPACE.key, name: FIRST_SPACE.name } };
}

function pageUrlOf(type: string, module: Record<string, unknown>, pageTypes: Set<string>): string | undefined {
  let url: unknown;
  if (pageTypes.has(type)) {
    url = module.url ?? (isObject(module.target) ? module.target.url : undefined);
  } else if (type === 'webItems' && isObject(module.target) && (module.target.type === 'dialog' || module.target.type === 'inlinedialog')) {
    url = module.url;
  }
  return typeof url === 'string' && isRelative(url) ? url : undefined;
}

function macroParameterSamples(module: Record<string, unknown>): Record<string, string> {
  const samples: Record<string, string> = {};
  for (const parameter of Array.isArray(module.parameters) ? module.parameters : []) {
    if (!isObject(parameter) || typeof parameter.identifier !== 'string') continue;
    samples[parameter.identifier] = typeof parameter.defaultValue === 'string' ? parameter.defaultValue : 'sample';
  }
  return samples;
}

function isRelative(url: string): boolean {
  return url.startsWith('/') && !url.startsWith('//');
}

function safePath(baseUrl: string): string {
  try {
    return new URL(baseUrl).pathname.replace(/\/+$/, '');
  } catch {
    return '';
  }
}
