import type { ScaffoldApp } from '../scaffold-options.js';
import { adapterImport, adapterNames, file, productList, productNames, tsString, type ScaffoldFile, type ScaffoldModel } from '../scaffold-model.js';

// Lines of generated code that contain `${…}` or quotes are written as "double-quoted" strings here, so
// that nothing in them is interpolated by this module; only `${…}` in backtick strings are ours.

/** `src/`: the Nest application with one Connect app per product. */
export function sourceFiles(model: ScaffoldModel): ScaffoldFile[] {
  return [
    { path: 'src/main.ts', contents: mainTs(model) },
    { path: 'src/app-config.ts', contents: appConfigTs(model) },
    { path: 'src/app-config.spec.ts', contents: appConfigSpecTs() },
    { path: 'src/app.module.ts', contents: appModuleTs(model) },
    { path: 'src/installation-log.service.ts', contents: installationLogTs() },
    { path: 'src/forge-events.service.ts', contents: forgeEventsTs(model) },
    { path: 'src/pages/hello-page.ts', contents: helloPageTs() },
    ...model.apps.flatMap((app) => [
      { path: `src/${app.product}/${app.product}.descriptor.ts`, contents: descriptorTs(model, app) },
      { path: `src/${app.product}/${app.product}.controller.ts`, contents: app.product === 'jira' ? jiraControllerTs(model, app) : confluenceControllerTs(model, app) },
    ]),
  ];
}

function mainTs(model: ScaffoldModel): string {
  const adapter = adapterNames(model);
  const fastify = model.adapter === 'fastify';
  return file([
    "import 'reflect-metadata';",
    "import { existsSync } from 'node:fs';",
    fastify && "import { networkInterfaces } from 'node:os';",
    "import { Logger } from '@nestjs/common';",
    "import { NestFactory } from '@nestjs/core';",
    adapterImport(model),
    "import { tuneHttpAdapter } from 'atlassian-connect-nest';",
    "import { appConfigFromEnv } from './app-config.js';",
    "import { AppModule } from './app.module.js';",
    '',
    'async function main(): Promise<void> {',
    '  // Settings from .env when there is one (see .env.example); variables set in the environment win.',
    "  if (existsSync('.env')) process.loadEnvFile('.env');",
    '  const config = appConfigFromEnv();',
    `  // ${adapter.label} serves the app (see "HTTP adapter" in README.md), readied by the framework's tuneHttpAdapter().`,
    `  const app = await NestFactory.create<${adapter.applicationType}>(AppModule.register(config), tuneHttpAdapter(new ${adapter.adapterClass}()));`,
    '  app.enableShutdownHooks();',
    ...(fastify
      ? ['  // Fastify listens on localhost only unless given a host: every interface, as Express does.', '  await app.listen(config.port, anyInterfaceHost());']
      : ['  await app.listen(config.port);']),
    `  const logger = new Logger(${tsString(model.name)});`,
    `  logger.log(\`Listening on port \${config.port} (${adapter.label}).\`);`,
    ...model.apps.map((app) => {
      const label = `${productNames(app).label} descriptor:`.padEnd(23);
      return `  logger.log(\`${label} \${config.appBaseUrl}${app.path}/atlassian-connect.json\`);`;
    }),
    '}',
    ...(fastify
      ? [
          '',
          '/** "Every interface": `::` (IPv4 too) where the machine has IPv6, else `0.0.0.0`. */',
          'function anyInterfaceHost(): string {',
          "  const ipv6 = Object.values(networkInterfaces()).some((addresses) => addresses?.some((address) => address.family === 'IPv6'));",
          "  return ipv6 ? '::' : '0.0.0.0';",
          '}',
        ]
      : []),
    '',
    'main().catch((error: unknown) => {',
    '  console.error(error);',
    '  process.exit(1);',
    '});',
  ]);
}

function appConfigTs(model: ScaffoldModel): string {
  return file([
    "/** The app's settings, read from the environment (see README.md and .env.example). */",
    'export interface AppConfig {',
    '  /** PORT: the port to listen on (default 3000). */',
    '  port: number;',
    `  /** APP_BASE_URL: the public URL of this process (default \`http://localhost:$PORT\`); the apps are at ${model.apps.map((app) => `\`${app.path}\``).join(' and ')} under it. */`,
    '  appBaseUrl: string;',
    '  /** DATABASE_URL: PostgreSQL. Without it an embedded engine (PGlite) keeps the data under `.data/pglite`. */',
    '  databaseUrl?: string;',
    "  /** CONNECT_DATABASE_SCHEMA: the PostgreSQL schema of the framework's tables (the tests use one of their own). */",
    '  databaseSchema?: string;',
    '  /** CONNECT_EMBEDDED_DATA_DIR: where the embedded engine keeps its data (default `.data/pglite`); `memory` keeps nothing. */',
    '  embeddedDataDir?: string;',
    "  /** CONNECT_INSTALL_KEYS_URL: where signed-install keys are fetched (default Atlassian's CDN). */",
    '  installKeysUrl?: string;',
    "  /** CONNECT_AUTHORIZATION_SERVER_URL: the OAuth 2.0 server for acting as a user (default Atlassian's). */",
    '  authorizationServerUrl?: string;',
    "  /** Also take installs from loopback sites (`simulate`, the tests' `startSite()`); on unless NODE_ENV=production. */",
    '  allowLoopbackSites?: boolean;',
    '}',
    '',
    'export function appConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AppConfig {',
    '  const port = env.PORT ? Number(env.PORT) : 3000;',
    '  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, not ${JSON.stringify(env.PORT)}.`);',
    "  const appBaseUrl = (env.APP_BASE_URL || `http://localhost:${port}`).replace(/\\/+$/, '');",
    '  if (!/^https?:\\/\\/[^/]/.test(appBaseUrl)) throw new Error(`APP_BASE_URL must be an http(s) URL, not ${JSON.stringify(env.APP_BASE_URL)}.`);',
    '  return {',
    '    port,',
    '    appBaseUrl,',
    '    databaseUrl: env.DATABASE_URL || undefined,',
    '    databaseSchema: env.CONNECT_DATABASE_SCHEMA || undefined,',
    '    embeddedDataDir: env.CONNECT_EMBEDDED_DATA_DIR || undefined,',
    '    installKeysUrl: env.CONNECT_INSTALL_KEYS_URL || undefined,',
    '    authorizationServerUrl: env.CONNECT_AUTHORIZATION_SERVER_URL || undefined,',
    "    allowLoopbackSites: env.NODE_ENV !== 'production',",
    '  };',
    '}',
  ]);
}

function appConfigSpecTs(): string {
  return file([
    "import { appConfigFromEnv } from './app-config.js';",
    '',
    "describe('appConfigFromEnv', () => {",
    "  it('runs with no settings at all', () => {",
    '    expect(appConfigFromEnv({})).toEqual({',
    '      port: 3000,',
    "      appBaseUrl: 'http://localhost:3000',",
    '      databaseUrl: undefined,',
    '      databaseSchema: undefined,',
    '      embeddedDataDir: undefined,',
    '      installKeysUrl: undefined,',
    '      authorizationServerUrl: undefined,',
    '      allowLoopbackSites: true,',
    '    });',
    '  });',
    '',
    "  it('reads every variable', () => {",
    '    const config = appConfigFromEnv({',
    "      PORT: '8080',",
    "      APP_BASE_URL: 'https://my-tunnel.example.com/',",
    "      DATABASE_URL: 'postgres://connect:connect@127.0.0.1:5432/connect',",
    "      CONNECT_INSTALL_KEYS_URL: 'http://127.0.0.1:9000',",
    "      CONNECT_AUTHORIZATION_SERVER_URL: 'http://127.0.0.1:9001',",
    '    });',
    '    expect(config).toMatchObject({',
    '      port: 8080,',
    "      appBaseUrl: 'https://my-tunnel.example.com',",
    "      databaseUrl: 'postgres://connect:connect@127.0.0.1:5432/connect',",
    "      installKeysUrl: 'http://127.0.0.1:9000',",
    "      authorizationServerUrl: 'http://127.0.0.1:9001',",
    '    });',
    '  });',
    '',
    "  it('refuses a bad PORT or APP_BASE_URL', () => {",
    "    expect(() => appConfigFromEnv({ PORT: 'eighty' })).toThrow('PORT must be a port number');",
    "    expect(() => appConfigFromEnv({ APP_BASE_URL: 'my-tunnel.example.com' })).toThrow('APP_BASE_URL must be an http(s) URL');",
    '  });',
    '});',
  ]);
}

function appModuleTs(model: ScaffoldModel): string {
  const imports = model.apps.flatMap((app) => {
    const names = productNames(app);
    return [
      `import { ${names.descriptorConstant} } from './${app.product}/${app.product}.descriptor.js';`,
      `import { ${names.controller} } from './${app.product}/${app.product}.controller.js';`,
    ];
  });
  return file([
    "import { Module, type DynamicModule } from '@nestjs/common';",
    "import { CONNECT_DEFAULTS, ConnectModule, LOOPBACK_HOST_PATTERNS, type ConnectModuleOptions } from 'atlassian-connect-nest';",
    "import type { AppConfig } from './app-config.js';",
    "import { ForgeEvents } from './forge-events.service.js';",
    "import { InstallationLog } from './installation-log.service.js';",
    ...imports,
    '',
    '/** The app keys (descriptor `key`): one app per product, each listed and installed on its own. */',
    ...model.apps.map((app) => `export const ${productNames(app).keyConstant} = ${tsString(app.key)};`),
    '',
    `/** The framework's options: ${model.apps.map((app) => `the ${productNames(app).label} app at \`${app.path}\``).join(' and ')} of the public URL. */`,
    'export function connectOptions(config: AppConfig): ConnectModuleOptions {',
    "  // Installs from Atlassian's cloud sites; loopback ones (simulate, the tests) only when the config allows them.",
    '  const allowedHostPatterns = config.allowLoopbackSites ? [...CONNECT_DEFAULTS.apps.allowedHostPatterns, ...LOOPBACK_HOST_PATTERNS] : undefined;',
    '  return {',
    '    apps: [',
    ...model.apps.map((app) => {
      const names = productNames(app);
      return `      { product: '${app.product}', key: ${names.keyConstant}, baseUrl: \`\${config.appBaseUrl}${app.path}\`, descriptor: ${names.descriptorConstant}, allowedHostPatterns },`;
    }),
    '    ],',
    '    ...(config.installKeysUrl !== undefined && { installKeysUrl: config.installKeysUrl }),',
    '    ...(config.authorizationServerUrl !== undefined && { client: { authorizationServerUrl: config.authorizationServerUrl } }),',
    '    database: { url: config.databaseUrl, schema: config.databaseSchema, embeddedDataDir: config.embeddedDataDir },',
    '  };',
    '}',
    '',
    `/** ${model.name.replace(/\*\//g, '* /')}: ${productList(model)} served by one process. */`,
    '@Module({})',
    'export class AppModule {',
    '  static register(config: AppConfig): DynamicModule {',
    '    return {',
    '      module: AppModule,',
    '      imports: [ConnectModule.forRoot(connectOptions(config))],',
    `      controllers: [${model.apps.map((app) => productNames(app).controller).join(', ')}],`,
    '      providers: [InstallationLog, ForgeEvents],',
    '    };',
    '  }',
    '}',
  ]);
}

function installationLogTs(): string {
  return file([
    "import { Injectable, Logger } from '@nestjs/common';",
    "import { OnInstalled, OnUninstalled, type ConnectLifecycleEvent } from 'atlassian-connect-nest';",
    '',
    '/**',
    ' * Reacts to installs. `@OnInstalled()` hooks run inside the transaction that stores the site (throwing',
    " * fails the install); pass `{ product: 'jira' }` to hear only one product.",
    ' */',
    '@Injectable()',
    'export class InstallationLog {',
    "  private readonly logger = new Logger('InstallationLog');",
    '',
    '  @OnInstalled()',
    '  installed(event: ConnectLifecycleEvent): void {',
    "    const kind = event.previous === null ? 'Installed' : 'Re-installed';",
    '    this.logger.log(`${kind} ${event.app.key} on ${event.tenant.baseUrl}.`);',
    '  }',
    '',
    '  @OnUninstalled()',
    '  uninstalled(event: ConnectLifecycleEvent): void {',
    '    this.logger.log(`Uninstalled ${event.app.key} from ${event.tenant.baseUrl}.`);',
    '  }',
    '}',
  ]);
}

/** Where each product says who the caller is, below a Forge `apiBaseUrl`. */
const FORGE_WHO_AM_I: Record<ScaffoldApp['product'], string> = { jira: '/rest/api/3/myself', confluence: '/wiki/rest/api/user/current' };

function forgeEventsTs(model: ScaffoldModel): string {
  const [first, second] = model.apps;
  const path =
    second === undefined
      ? tsString(FORGE_WHO_AM_I[first!.product])
      : `event.app.product === '${first!.product}' ? ${tsString(FORGE_WHO_AM_I[first!.product])} : ${tsString(FORGE_WHO_AM_I[second.product])}`;
  return file([
    "import { Injectable, Logger } from '@nestjs/common';",
    "import { ConnectClient, OnForgeEvent, OnForgeScheduledTrigger, type ForgeEventContext } from 'atlassian-connect-nest';",
    '',
    '/**',
    ' * Forge events and scheduled triggers, for when an app is also a Forge app: give it `forge: { appId }` in',
    ' * `connectOptions` (app.module.ts), and the framework serves `<app path>/forge/events` and',
    ' * `<app path>/forge/events/scheduled` (the Forge Invocation Token checked), the `endpoint`s of the',
    " * manifest's `trigger` and `scheduledTrigger` modules (with `auth.appSystemToken: true`). Until then",
    ' * nothing calls these methods.',
    ' */',
    '@Injectable()',
    'export class ForgeEvents {',
    "  private readonly logger = new Logger('ForgeEvents');",
    '',
    '  constructor(private readonly client: ConnectClient) {}',
    '',
    '  /** The framework has recorded the installation and saved its app system token before this runs. */',
    "  @OnForgeEvent('avi:forge:installed:app')",
    '  installed(event: ForgeEventContext): void {',
    '    this.logger.log(`Forge install of ${event.app.key}: ${event.forge.installationId}.`);',
    '  }',
    '',
    '  /**',
    "   * Work outside a user's request, with the installation's saved app system token (each trigger brings",
    '   * a fresh one). A throw answers 500, so Forge delivers the trigger again.',
    '   */',
    '  @OnForgeScheduledTrigger()',
    '  async scheduled(event: ForgeEventContext): Promise<void> {',
    '    const forge = this.client.asForgeApp({ appKey: event.app.key, installationId: event.forge.installationId });',
    `    const me = await forge.get<{ accountId: string }>(${path});`,
    "    this.logger.log(`Trigger ${event.moduleKey ?? '(no key)'} on ${event.forge.installationId}: the app acts as ${me.accountId}.`);",
    '  }',
    '}',
  ]);
}

function helloPageTs(): string {
  return file([
    "import type { ConnectRequestContext } from 'atlassian-connect-nest';",
    '',
    "const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\"': '&quot;', \"'\": '&#39;' };",
    '',
    'export function escapeHtml(value: string): string {',
    '  return value.replace(/[&<>"\']/g, (char) => ENTITIES[char] ?? char);',
    '}',
    '',
    '/** A page the product shows in an iframe; all.js lets it talk to the product (AP.*). */',
    'export function helloPage(context: ConnectRequestContext, title: string): string {',
    "  const user = context.accountId === undefined ? 'an anonymous user' : escapeHtml(context.accountId);",
    '  return `<!doctype html>',
    '<html lang="en">',
    '<head>',
    '  <meta charset="utf-8">',
    '  <title>${escapeHtml(title)}</title>',
    '  <script src="https://connect-cdn.atl-paas.net/all.js" async></script>',
    '</head>',
    '<body>',
    '  <h1>${escapeHtml(title)}</h1>',
    '  <p>Hello ${user} on ${escapeHtml(context.tenant.baseUrl)}.</p>',
    '</body>',
    '</html>`;',
    '}',
  ]);
}

function descriptorTs(model: ScaffoldModel, app: ScaffoldApp): string {
  const names = productNames(app);
  return file([
    "import type { ConnectDescriptorInput } from 'atlassian-connect-nest';",
    '',
    '/**',
    ` * The ${names.label} app's descriptor, served at ${app.path}/atlassian-connect.json. The framework adds key,`,
    ' * baseUrl, authentication, lifecycle and apiMigrations. Module URLs are relative to the baseUrl.',
    ' */',
    `export const ${names.descriptorConstant}: ConnectDescriptorInput = {`,
    `  name: ${tsString(model.name)},`,
    `  description: ${tsString(`${model.name} for ${names.label}.`)},`,
    '  apiVersion: 1,',
    "  scopes: ['READ'],",
    '  enableLicensing: false,',
    '  modules: {',
    '    generalPages: [',
    `      { key: 'hello-page', name: { value: ${tsString(model.name)} }, url: '/pages/hello', location: '${names.pageLocation}' },`,
    '    ],',
    '  },',
    '};',
  ]);
}

/** The routes both products' controllers have, for `app`. */
function sharedRoutes(model: ScaffoldModel, app: ScaffoldApp): string[] {
  const names = productNames(app);
  return [
    `  /**`,
    `   * The page module: ${names.label} loads it in an iframe with a request-bound token in \`?jwt=\`. \`page: true\``,
    "   * adds a frame-ancestors policy for the tenant's own site (and HSTS over https).",
    '   */',
    "  @Get('pages/hello')",
    '  @ConnectAuth({ page: true })',
    "  @Header('content-type', 'text/html; charset=utf-8')",
    '  page(@ConnectContext() context: ConnectRequestContext): string {',
    `    return helloPage(context, ${tsString(model.name)});`,
    '  }',
    '',
    `  /** JSON for calls signed by ${names.label}: the token must be bound to this exact request (qsh). */`,
    "  @Get('api/whoami')",
    '  @ConnectAuth()',
    '  whoami(@ConnectContext() context: ConnectRequestContext) {',
    '    return { clientKey: context.clientKey, accountId: context.accountId ?? null, site: context.tenant.baseUrl };',
    '  }',
    '',
    '  /** JSON for the app\'s own front end: also accepts tokens from `AP.context.getToken()` (qsh "context-qsh"). */',
    "  @Get('api/context/whoami')",
    "  @ConnectAuth({ qsh: 'context' })",
    '  contextWhoami(@ConnectContext() context: ConnectRequestContext) {',
    '    return { clientKey: context.clientKey, accountId: context.accountId ?? null, site: context.tenant.baseUrl };',
    '  }',
  ];
}

function controllerHeader(): string[] {
  return [
    "import { Controller, Get, Header } from '@nestjs/common';",
    "import { ConnectAuth, ConnectClient, ConnectContext, type ConnectRequestContext } from 'atlassian-connect-nest';",
    "import { helloPage } from '../pages/hello-page.js';",
    '',
  ];
}

function jiraControllerTs(model: ScaffoldModel, app: ScaffoldApp): string {
  return file([
    ...controllerHeader(),
    '/** The part of `GET /rest/api/3/myself` this app reads. */',
    'interface JiraUser {',
    '  accountId: string;',
    '  displayName?: string;',
    '}',
    '',
    `/** Routes of the Jira app, under its baseUrl path \`${app.path}\`. */`,
    `@Controller('${app.product}')`,
    'export class JiraController {',
    '  constructor(private readonly client: ConnectClient) {}',
    '',
    ...sharedRoutes(model, app),
    '',
    "  /** Calls Jira as the app (a JWT signed with the site's shared secret): the app's own user. */",
    "  @Get('api/myself')",
    '  @ConnectAuth()',
    '  async myself(@ConnectContext() context: ConnectRequestContext) {',
    "    const myself = await this.client.asApp(context).get<JiraUser>('/rest/api/3/myself');",
    '    return { accountId: myself.accountId, displayName: myself.displayName ?? null };',
    '  }',
    '}',
  ]);
}

function confluenceControllerTs(model: ScaffoldModel, app: ScaffoldApp): string {
  return file([
    ...controllerHeader(),
    '/** The part of a space in `GET /rest/api/space` this app reads. */',
    'interface ConfluenceSpace {',
    '  key: string;',
    '  name: string;',
    '}',
    '',
    `/** Routes of the Confluence app, under its baseUrl path \`${app.path}\`. */`,
    `@Controller('${app.product}')`,
    'export class ConfluenceController {',
    '  constructor(private readonly client: ConnectClient) {}',
    '',
    ...sharedRoutes(model, app),
    '',
    "  /** Calls Confluence as the app (a JWT signed with the site's shared secret): the spaces it can see. */",
    "  @Get('api/spaces')",
    '  @ConnectAuth()',
    '  async spaces(@ConnectContext() context: ConnectRequestContext) {',
    '    const spaces: ConfluenceSpace[] = [];',
    '    // The client follows `_links.next` from page to page; stop after 10 pages.',
    "    for await (const space of this.client.asApp(context).paginate<ConfluenceSpace>('/rest/api/space', { maxPages: 10 })) {",
    '      spaces.push({ key: space.key, name: space.name });',
    '    }',
    '    return { spaces };',
    '  }',
    '}',
  ]);
}
