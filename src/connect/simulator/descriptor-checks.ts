import type { ConnectProduct } from '../config/connect-product.js';

/** One thing the product would object to (`error`) or that deserves a look (`warning`). */
export interface DescriptorProblem {
  severity: 'error' | 'warning';
  /** Where in the descriptor, e.g. `key`, `lifecycle.installed`, `modules.generalPages[0].url`. */
  field: string;
  message: string;
}

export interface DescriptorCheckOptions {
  /** The product to check against; when absent it is guessed from the descriptor. */
  product?: ConnectProduct | undefined;
}

export interface DescriptorCheckResult {
  product: ConnectProduct;
  /** How the product was chosen: the option, the descriptor's content, or the fallback (Jira). */
  productSource: 'option' | 'descriptor' | 'fallback';
  /** Why the product was guessed as it was (empty when it came from the option). */
  productHints: string[];
  problems: DescriptorProblem[];
  /**
   * The problems that make a signed install impossible to even attempt (no key, no baseUrl, no
   * `installed` lifecycle URL, …): a simulation stops after the checks when there is one.
   */
  fatal: boolean;
}

export const APP_KEY_MAX_LENGTH = 64;
const APP_KEY_PATTERN = /^[a-zA-Z0-9._-]+$/;
const MODULE_KEY_PATTERN = /^[a-zA-Z0-9-]+$/;
const COMMON_SCOPES = ['READ', 'WRITE', 'DELETE', 'ADMIN', 'ACT_AS_USER', 'ACCESS_EMAIL_ADDRESSES'];
export const PRODUCT_SCOPES: Readonly<Record<ConnectProduct, readonly string[]>> = {
  jira: [...COMMON_SCOPES, 'PROJECT_ADMIN'],
  confluence: [...COMMON_SCOPES, 'SPACE_ADMIN'],
};
const LIFECYCLE_EVENTS = ['installed', 'uninstalled', 'enabled', 'disabled'] as const;

/** Module types only one product knows (names not starting with `jira`/`confluence` that are product-specific). */
const CONFLUENCE_MODULE_TYPES = new Set([
  'staticContentMacros',
  'dynamicContentMacros',
  'spaceToolsTabs',
  'contentBylineItems',
  'blueprints',
  'customContent',
  'profilePages',
  'keyboardShortcuts',
  'contentPropertyIndex',
]);
const JIRA_MODULE_TYPES = new Set(['serviceDeskQueues', 'serviceDeskPortalRequestViewPanels', 'agileBoardActions', 'dashboardItems']);

/** The product a module type belongs to, or undefined for common modules (generalPages, webPanels, …). */
export function productOfModuleType(type: string): ConnectProduct | undefined {
  if (/^jira[A-Z]/.test(type) || JIRA_MODULE_TYPES.has(type) || /^serviceDesk[A-Z]/.test(type)) return 'jira';
  if (/^confluence[A-Z]/.test(type) || CONFLUENCE_MODULE_TYPES.has(type)) return 'confluence';
  return undefined;
}

/** The product a web location belongs to (`system.top.navigation.bar` is Jira, `system.header/left` is Confluence). */
function productOfLocation(location: string): ConnectProduct | undefined {
  if (/^(system\.top\.navigation\.bar|jira\.|atl\.jira|com\.atlassian\.jira|operations-|transitions-|opsbar-)/.test(location)) return 'jira';
  if (/^(system\.header\/|system\.content\.|system\.space\.|system\.user\/|system\.editor|confluence\.|atl\.(general|editor|page|space|user))/.test(location)) return 'confluence';
  return undefined;
}

function productOfWebhookEvent(event: string): ConnectProduct | undefined {
  if (/^(jira:|jira_|issue_|worklog_|sprint_|board_|project_|version_|issuelink_|option_)/.test(event)) return 'jira';
  if (/^(page_|blog_|space_|attachment_|label_|content_|group_|login|logout|relation_|search_performed|theme_|connect_addon_)/.test(event)) return 'confluence';
  return undefined;
}

/**
 * Guesses the product of a descriptor: product-specific module types first, then scopes (PROJECT_ADMIN,
 * SPACE_ADMIN), webhook events, web locations, and last the words `jira`/`confluence` in the key or
 * baseUrl. Returns the votes so the choice can be explained.
 */
export function guessProduct(descriptor: Record<string, unknown>): { product?: ConnectProduct; hints: string[]; conflict: boolean } {
  const strong = { jira: [] as string[], confluence: [] as string[] };
  const weak = { jira: [] as string[], confluence: [] as string[] };
  const modules = isObject(descriptor.modules) ? descriptor.modules : {};
  for (const [type, value] of Object.entries(modules)) {
    const product = productOfModuleType(type);
    if (product) strong[product].push(`module type ${type}`);
    for (const module of asList(value)) {
      if (!isObject(module)) continue;
      if (type === 'webhooks' && typeof module.event === 'string') {
        const p = productOfWebhookEvent(module.event);
        if (p) strong[p].push(`webhook event ${module.event}`);
      }
      if (typeof module.location === 'string') {
        const p = productOfLocation(module.location);
        if (p) weak[p].push(`location ${module.location}`);
      }
    }
  }
  for (const scope of Array.isArray(descriptor.scopes) ? descriptor.scopes : []) {
    if (typeof scope !== 'string') continue;
    if (scope.toUpperCase() === 'PROJECT_ADMIN') strong.jira.push('scope PROJECT_ADMIN');
    if (scope.toUpperCase() === 'SPACE_ADMIN') strong.confluence.push('scope SPACE_ADMIN');
  }
  if (strong.jira.length > 0 && strong.confluence.length > 0) {
    return { hints: [...strong.jira, ...strong.confluence], conflict: true };
  }
  for (const votes of [strong, weak]) {
    if (votes.jira.length > votes.confluence.length) return { product: 'jira', hints: votes.jira, conflict: false };
    if (votes.confluence.length > votes.jira.length) return { product: 'confluence', hints: votes.confluence, conflict: false };
  }
  const words = `${String(descriptor.key ?? '')} ${String(descriptor.baseUrl ?? '')}`.toLowerCase();
  const saysJira = words.includes('jira');
  const saysConfluence = words.includes('confluence');
  if (saysJira !== saysConfluence) return { product: saysJira ? 'jira' : 'confluence', hints: [`the word "${saysJira ? 'jira' : 'confluence'}" in key/baseUrl`], conflict: false };
  return { hints: [], conflict: false };
}

/**
 * Checks a descriptor the way Jira or Confluence would before installing it: key, baseUrl,
 * authentication, lifecycle URLs, API migrations, scopes, module keys and module URLs. Every problem is
 * one line. `--product` (options.product) wins over the guess.
 */
export function checkDescriptor(input: unknown, options: DescriptorCheckOptions = {}): DescriptorCheckResult {
  const problems: DescriptorProblem[] = [];
  const error = (field: string, message: string) => problems.push({ severity: 'error', field, message });
  const warn = (field: string, message: string) => problems.push({ severity: 'warning', field, message });

  if (!isObject(input)) {
    error('(descriptor)', 'The descriptor is not a JSON object.');
    return { product: options.product ?? 'jira', productSource: options.product ? 'option' : 'fallback', productHints: [], problems, fatal: true };
  }
  const descriptor = input;
  let fatal = false;

  // Product.
  const guess = guessProduct(descriptor);
  let product: ConnectProduct;
  let productSource: DescriptorCheckResult['productSource'];
  if (options.product) {
    product = options.product;
    productSource = 'option';
  } else if (guess.product) {
    product = guess.product;
    productSource = 'descriptor';
  } else {
    product = 'jira';
    productSource = 'fallback';
    if (guess.conflict) error('modules', `The descriptor has modules of both Jira and Confluence (${guess.hints.join(', ')}); one descriptor serves one product.`);
    else warn('(product)', 'Could not tell whether this is a Jira or a Confluence app; simulating Jira. Pass --product to choose.');
  }

  // key
  const key = descriptor.key;
  if (typeof key !== 'string' || key === '') {
    error('key', 'The descriptor has no "key": every app needs a unique key.');
    fatal = true;
  } else {
    if (key.length > APP_KEY_MAX_LENGTH) error('key', `The key is ${key.length} characters long; at most ${APP_KEY_MAX_LENGTH} are allowed.`);
    if (!APP_KEY_PATTERN.test(key)) error('key', `The key ${JSON.stringify(key)} may only contain letters, digits, dots, dashes and underscores.`);
  }
  if (typeof descriptor.name !== 'string' || descriptor.name === '') warn('name', 'The descriptor has no "name": the product shows the key instead.');

  // baseUrl
  let baseUrl: URL | undefined;
  if (typeof descriptor.baseUrl !== 'string' || descriptor.baseUrl === '') {
    error('baseUrl', 'The descriptor has no "baseUrl".');
    fatal = true;
  } else {
    try {
      baseUrl = new URL(descriptor.baseUrl);
    } catch {
      error('baseUrl', `The baseUrl ${JSON.stringify(descriptor.baseUrl)} is not an absolute URL.`);
      fatal = true;
    }
    if (baseUrl) {
      if (baseUrl.protocol !== 'https:' && baseUrl.protocol !== 'http:') {
        error('baseUrl', `The baseUrl must be an http(s) URL, not ${baseUrl.protocol}.`);
        fatal = true;
      } else if (baseUrl.protocol === 'http:') {
        warn('baseUrl', 'The baseUrl uses http: Atlassian Cloud only installs https apps (fine for this local simulation).');
      }
      if (baseUrl.search !== '' || baseUrl.hash !== '') error('baseUrl', 'The baseUrl must not have a query string or fragment.');
      if (baseUrl.username !== '' || baseUrl.password !== '') error('baseUrl', 'The baseUrl must not contain credentials.');
    }
  }

  // authentication
  const authentication = descriptor.authentication;
  const authType = isObject(authentication) ? authentication.type : undefined;
  if (typeof authType !== 'string') {
    error('authentication.type', 'The descriptor has no "authentication": {"type": "jwt"}; without it the product signs nothing.');
    fatal = true;
  } else if (authType.toLowerCase() !== 'jwt') {
    error('authentication.type', `authentication.type is ${JSON.stringify(authType)}; it must be "jwt" for signed installs and requests.`);
    fatal = true;
  }

  // lifecycle
  const lifecycle = isObject(descriptor.lifecycle) ? descriptor.lifecycle : undefined;
  if (descriptor.lifecycle !== undefined && lifecycle === undefined) error('lifecycle', '"lifecycle" must be an object of URLs.');
  for (const event of LIFECYCLE_EVENTS) {
    const url = lifecycle?.[event];
    const field = `lifecycle.${event}`;
    if (url === undefined) {
      if (event === 'installed') {
        error(field, 'There is no "installed" lifecycle URL: the app would never receive its shared secret.');
        fatal = true;
      } else {
        warn(field, `There is no "${event}" lifecycle URL: the app will not learn when it is ${event}.`);
      }
      continue;
    }
    if (typeof url !== 'string' || url === '') {
      error(field, `lifecycle.${event} must be a URL string.`);
      if (event === 'installed') fatal = true;
      continue;
    }
    const problem = moduleUrlProblem(url, baseUrl);
    if (problem) {
      error(field, problem);
      if (event === 'installed') fatal = true;
    }
  }

  // apiMigrations
  const migrations = isObject(descriptor.apiMigrations) ? descriptor.apiMigrations : {};
  if (migrations['signed-install'] !== true) {
    error('apiMigrations.signed-install', 'apiMigrations["signed-install"] must be true: installs are then RS256-signed by Atlassian (unsigned installs are no longer supported).');
  }
  if (migrations['context-qsh'] !== true) {
    warn('apiMigrations.context-qsh', 'apiMigrations["context-qsh"] is not true: context tokens (AP.context.getToken) are not bound to context-qsh.');
  }

  // scopes
  if (descriptor.scopes !== undefined) {
    if (!Array.isArray(descriptor.scopes)) {
      error('scopes', '"scopes" must be an array of scope names.');
    } else {
      const allowed = PRODUCT_SCOPES[product];
      const seen = new Set<string>();
      descriptor.scopes.forEach((scope, i) => {
        if (typeof scope !== 'string') return error(`scopes[${i}]`, 'A scope must be a string.');
        const upper = scope.toUpperCase();
        if (!allowed.includes(upper)) {
          const other = product === 'jira' ? 'confluence' : 'jira';
          const hint = PRODUCT_SCOPES[other].includes(upper) ? ` (it is a ${other === 'jira' ? 'Jira' : 'Confluence'} scope)` : '';
          error(`scopes[${i}]`, `${JSON.stringify(scope)} is not a ${product === 'jira' ? 'Jira' : 'Confluence'} scope${hint}; valid: ${allowed.join(', ')}.`);
        }
        if (seen.has(upper)) warn(`scopes[${i}]`, `The scope ${upper} is listed twice.`);
        seen.add(upper);
      });
    }
  }

  // modules
  if (descriptor.modules !== undefined && !isObject(descriptor.modules)) {
    error('modules', '"modules" must be an object of module lists.');
  } else if (isObject(descriptor.modules)) {
    const keys = new Map<string, string>();
    for (const [type, value] of Object.entries(descriptor.modules)) {
      const owner = productOfModuleType(type);
      if (owner && owner !== product) {
        error(`modules.${type}`, `${type} is a ${owner === 'jira' ? 'Jira' : 'Confluence'} module; a ${product === 'jira' ? 'Jira' : 'Confluence'} site does not know it.`);
      }
      const list = asList(value);
      const single = !Array.isArray(value);
      list.forEach((module, i) => {
        const field = single ? `modules.${type}` : `modules.${type}[${i}]`;
        if (!isObject(module)) return error(field, 'A module must be an object.');
        const moduleKey = module.key;
        if (type !== 'webhooks') {
          if (typeof moduleKey !== 'string' || moduleKey === '') {
            error(`${field}.key`, 'The module has no "key".');
          } else {
            if (!MODULE_KEY_PATTERN.test(moduleKey)) error(`${field}.key`, `The module key ${JSON.stringify(moduleKey)} may only contain letters, digits and dashes.`);
            const first = keys.get(moduleKey);
            if (first !== undefined)
              error(`${field}.key`, `The module key ${JSON.stringify(moduleKey)} is used twice (also by ${first}); module keys must be unique in a descriptor.`);
            else keys.set(moduleKey, field);
          }
        } else if (typeof module.event !== 'string' || module.event === '') {
          error(`${field}.event`, 'The webhook has no "event".');
        }
        for (const [urlField, url] of moduleUrls(module)) {
          if (typeof url !== 'string') continue;
          // A web item may link anywhere; everything else is loaded or called with the app's JWT.
          if (type === 'webItems' && !url.startsWith('/')) continue;
          const problem = moduleUrlProblem(url, baseUrl);
          if (problem) error(`${field}.${urlField}`, problem);
        }
        if (type === 'webhooks' && typeof module.url !== 'string') error(`${field}.url`, 'The webhook has no "url".');
      });
    }
  }

  return { product, productSource, productHints: options.product ? [] : guess.hints, problems, fatal };
}

/** The URL fields of a module that the product resolves against the baseUrl. */
export function moduleUrls(module: Record<string, unknown>): [string, unknown][] {
  const urls: [string, unknown][] = [];
  if (module.url !== undefined) urls.push(['url', module.url]);
  if (isObject(module.target) && module.target.url !== undefined) urls.push(['target.url', module.target.url]);
  return urls;
}

/**
 * Why a module or lifecycle URL is not fine: it must be relative to the baseUrl (start with `/`); an
 * absolute URL to another origin would make the product send signed requests elsewhere.
 */
export function moduleUrlProblem(url: string, baseUrl: URL | undefined): string | undefined {
  if (url.startsWith('//')) return `${JSON.stringify(url)} is a protocol-relative URL; module URLs are relative to the baseUrl and start with a single "/".`;
  if (url.startsWith('/')) return undefined;
  let absolute: URL;
  try {
    absolute = new URL(url);
  } catch {
    return `${JSON.stringify(url)} must be relative to the baseUrl and start with "/".`;
  }
  if (baseUrl && absolute.origin === baseUrl.origin) {
    return `${JSON.stringify(url)} is absolute; write it relative to the baseUrl (starting with "/").`;
  }
  return `${JSON.stringify(url)} points to another origin (${absolute.origin}) than the baseUrl${baseUrl ? ` (${baseUrl.origin})` : ''}: the product would send signed requests there.`;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A module type's value: usually a list, for a few (configurePage, postInstallPage) a single module. */
export function asList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return value === undefined || value === null ? [] : [value];
}
